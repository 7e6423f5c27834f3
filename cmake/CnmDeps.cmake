# Every third-party dependency comes from a Debian package (scripts/setup-deps.sh installs them).
# Parts link the cnm::* targets below, never a package's own target, so one switch decides how
# the shipped binaries are linked:
#   CNM_STATIC=ON  (release trees): every library is its Debian static archive (.a) and the
#                  shipped executables (cnm_static_executable) are static-pie: no PT_INTERP, no
#                  shared library, no symbol version of the build host's glibc, so they start
#                  on glibc 2.17 (CentOS 7) as well as here.
#   CNM_STATIC=OFF (sanitizer trees, development): the shared libraries.
# spdlog, fmt and cpp-httplib are header-only in both: Debian ships no static spdlog/fmt, and its
# libcpp-httplib-dev is split into a header and a shared library, so its source package (the
# single-header form, Debian's patches applied) is fetched by scripts/fetch-sources.sh.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)

if(CNM_SANITIZE)
  set(_cnm_static_default OFF)
else()
  set(_cnm_static_default ON)
endif()
option(CNM_STATIC "Link cnmctl, its helpers and cnm-probe fully statically" ${_cnm_static_default})
if(CNM_STATIC AND CNM_SANITIZE)
  message(FATAL_ERROR "CNM_STATIC and CNM_SANITIZE exclude each other (sanitizers need shared runtimes)")
endif()

# cnm_dep(NAME STATIC lib.a... SHARED target-or-lib...): the INTERFACE target cnm::NAME.
# Static archives are listed in link order (users before what they use).
function(cnm_dep name)
  cmake_parse_arguments(D "" "" "STATIC;SHARED" ${ARGN})
  add_library(cnm_dep_${name} INTERFACE)
  add_library(cnm::${name} ALIAS cnm_dep_${name})
  if(CNM_STATIC)
    foreach(lib IN LISTS D_STATIC)
      if(lib MATCHES "^-l")  # glibc's own (libm, libresolv): -static picks the .a
        target_link_libraries(cnm_dep_${name} INTERFACE ${lib})
        continue()
      endif()
      string(MAKE_C_IDENTIFIER "CNM_A_${lib}" var)
      find_library(${var} NAMES ${lib} REQUIRED NO_CACHE)
      target_link_libraries(cnm_dep_${name} INTERFACE ${${var}})
    endforeach()
  else()
    target_link_libraries(cnm_dep_${name} INTERFACE ${D_SHARED})
  endif()
endfunction()

pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
pkg_check_modules(LIBSEMANAGE REQUIRED IMPORTED_TARGET libsemanage)
pkg_check_modules(LIBSELINUX REQUIRED IMPORTED_TARGET libselinux)
pkg_check_modules(LIBSEPOL REQUIRED IMPORTED_TARGET libsepol)
pkg_check_modules(LIBCAP REQUIRED IMPORTED_TARGET libcap)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(LibArchive REQUIRED)

cnm_dep(yaml STATIC libyaml-cpp.a SHARED yaml-cpp)
cnm_dep(bpf STATIC libbpf.a libelf.a libz.a SHARED PkgConfig::LIBBPF)
# libelf for code that reads ELF itself (the ladder's test reads the BPF objects' instructions).
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
cnm_dep(elf STATIC libelf.a libz.a SHARED PkgConfig::LIBELF)
cnm_dep(cap STATIC libcap.a SHARED PkgConfig::LIBCAP)
# libsemanage compresses modules with bzip2, reads file_contexts with pcre2 (through
# libselinux) and logs policy changes to the audit system (Debian builds it with libaudit,
# which uses libcap-ng; its .pc file does not say so).
cnm_dep(semanage STATIC libsemanage.a libsepol.a libselinux.a libsepol.a libpcre2-8.a libbz2.a
        libaudit.a libcap-ng.a SHARED PkgConfig::LIBSEMANAGE)
cnm_dep(selinux STATIC libselinux.a libpcre2-8.a SHARED PkgConfig::LIBSELINUX)
cnm_dep(sepol STATIC libsepol.a SHARED PkgConfig::LIBSEPOL)
# libarchive's `pkg-config --static --libs` order, then libxml2's own (ICU). A static link
# takes only the objects something references: cnmctl-installer reads gzip'd tar only
# (release_archive.cpp enables no other format or filter), so xar's xml2 and ICU stay out of it;
# the tests' archive writer pulls more of them.
cnm_dep(archive STATIC libarchive.a libnettle.a libacl.a liblzma.a libzstd.a liblz4.a libbz2.a
        libz.a libxml2.a libicuuc.a libicudata.a liblzma.a libz.a -lm
        SHARED LibArchive::LibArchive)
# liblzma unpacks a BTF archive's .btf.xz members itself (probe/btf_archive.cpp): one stream, a
# memory limit, no nested layers, none of which libarchive's xz filter offers.
pkg_check_modules(LIBLZMA REQUIRED IMPORTED_TARGET liblzma)
cnm_dep(lzma STATIC liblzma.a SHARED PkgConfig::LIBLZMA)
# zlib checks a release archive's gzip stream whole (CRC-32, length, nothing after it), which
# libarchive's reader does not (installer/release_archive.cpp).
find_package(ZLIB REQUIRED)
cnm_dep(z STATIC libz.a SHARED ZLIB::ZLIB)
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
cnm_dep(nettle STATIC libnettle.a SHARED PkgConfig::NETTLE)
# http-parser parses the probe API's requests (probe/http_request.cpp).
find_path(CNM_HTTP_PARSER_INCLUDE http_parser.h REQUIRED)
find_library(CNM_HTTP_PARSER_SHARED NAMES http_parser REQUIRED)
cnm_dep(http_parser STATIC libhttp_parser.a SHARED ${CNM_HTTP_PARSER_SHARED})
target_include_directories(cnm_dep_http_parser SYSTEM INTERFACE ${CNM_HTTP_PARSER_INCLUDE})
# glibc's resolver library (ns_initparse and friends parse DNS messages in the probe).
cnm_dep(resolv STATIC -lresolv SHARED resolv)

# valijson checks the fleet report's inputs against checks/preflight.schema.json
# (checks/schema_validator.cpp, the only file that includes it). Header-only; exceptions on, as
# valijson's own CMake package sets them, so a schema it cannot parse throws instead of aborting.
find_path(CNM_VALIJSON_INCLUDE valijson/validator.hpp REQUIRED)
add_library(cnm_dep_valijson INTERFACE)
add_library(cnm::valijson ALIAS cnm_dep_valijson)
target_include_directories(cnm_dep_valijson SYSTEM INTERFACE ${CNM_VALIJSON_INCLUDE})
target_compile_definitions(cnm_dep_valijson INTERFACE VALIJSON_USE_EXCEPTIONS=1)

add_library(cnm_dep_fmt INTERFACE)
add_library(cnm::fmt ALIAS cnm_dep_fmt)
target_link_libraries(cnm_dep_fmt INTERFACE fmt::fmt-header-only)

# spdlog header-only over the header-only fmt (spdlog's own header-only target drags in the
# shared libfmt).
find_path(CNM_SPDLOG_INCLUDE spdlog/spdlog.h REQUIRED)
add_library(cnm_dep_spdlog INTERFACE)
add_library(cnm::spdlog ALIAS cnm_dep_spdlog)
target_compile_definitions(cnm_dep_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
target_link_libraries(cnm_dep_spdlog INTERFACE cnm::fmt Threads::Threads)

# cpp-httplib's single header from Debian's source package (see scripts/fetch-sources.sh);
# no TLS, zlib or brotli: the probe and the installer speak HTTP over a unix socket only.
set(CNM_SOURCES_CACHE "/var/cache/cnmkit/src" CACHE PATH
    "Debian source packages fetched by scripts/fetch-sources.sh")
find_path(CNM_HTTPLIB_DIR httplib.h
          PATHS ${CNM_SOURCES_CACHE}/cpp-httplib NO_DEFAULT_PATH NO_CACHE)
if(NOT CNM_HTTPLIB_DIR)
  message(FATAL_ERROR "cpp-httplib's source is missing from ${CNM_SOURCES_CACHE}/cpp-httplib: "
                      "run scripts/setup-deps.sh (it runs scripts/fetch-sources.sh)")
endif()
add_library(cnm_dep_httplib INTERFACE)
add_library(cnm::httplib ALIAS cnm_dep_httplib)
target_include_directories(cnm_dep_httplib SYSTEM BEFORE INTERFACE ${CNM_HTTPLIB_DIR})
target_link_libraries(cnm_dep_httplib INTERFACE Threads::Threads)

if(CNM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# cnm_static_executable(TARGET): a binary that ships, static-pie (ASLR kept). The linker warns
# about glibc functions that use NSS ("Using 'getpwent' in statically linked applications
# requires at runtime the shared libraries..."): a static glibc still answers them from its
# built-in `files` source and skips sources it cannot load (sss, ldap). cnmkit's own code
# never calls them (common/host_accounts.h); the ones third-party code links in are listed and
# justified in tests/packaging/static_binaries_test.cpp, which fails on any other.
function(cnm_static_executable target)
  if(CNM_STATIC)
    target_link_options(${target} PRIVATE -static-pie)
  endif()
endfunction()
