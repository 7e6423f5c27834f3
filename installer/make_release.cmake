# cmake -DOUT=archive.tar.gz -DSTAGE=dir -DFILES="src=dest|src=dest" [-DBPF_OBJECTS="a.bpf.o|b.bpf.o"]
#       [-DSTRIP=strip] -P make_release.cmake
# Stages the release files, writes MANIFEST.sha256 (sha256sum format, sorted) and packs a
# reproducible .tar.gz (fixed mtime, sorted names) with cmake's own tar (libarchive inside).
file(REMOVE_RECURSE ${STAGE})
file(MAKE_DIRECTORY ${STAGE})
string(REPLACE "|" ";" pairs "${FILES}")
set(names "")
foreach(pair IN LISTS pairs)
  string(REPLACE "=" ";" sd "${pair}")
  list(GET sd 0 src)
  list(GET sd 1 dest)
  get_filename_component(dir ${STAGE}/${dest} DIRECTORY)
  file(MAKE_DIRECTORY ${dir})
  file(COPY_FILE ${src} ${STAGE}/${dest})
  # Programs ship stripped (the probe: 42 MB -> 5 MB; every install reads, hashes
  # and compares it). BPF objects are never stripped: their BTF is what CO-RE relocates with.
  if(STRIP AND dest MATCHES "^bin/")
    execute_process(COMMAND ${STRIP} --strip-unneeded --remove-section=.comment ${STAGE}/${dest}
                    RESULT_VARIABLE src_rc)
    if(NOT src_rc EQUAL 0)
      message(FATAL_ERROR "stripping ${dest} failed")
    endif()
  endif()
  list(APPEND names ${dest})
endforeach()
# The objects the probe carries, named one by one (never a glob of the build's folder, where
# an object the probe no longer has may linger): the installer accepts those names only.
if(BPF_OBJECTS)
  string(REPLACE "|" ";" objs "${BPF_OBJECTS}")
  foreach(obj IN LISTS objs)
    get_filename_component(base ${obj} NAME)
    file(MAKE_DIRECTORY ${STAGE}/ebpf)
    file(COPY_FILE ${obj} ${STAGE}/ebpf/${base})
    list(APPEND names ebpf/${base})
  endforeach()
endif()
list(SORT names)
set(manifest "")
foreach(name IN LISTS names)
  file(SHA256 ${STAGE}/${name} hash)
  string(APPEND manifest "${hash}  ${name}\n")
endforeach()
file(WRITE ${STAGE}/MANIFEST.sha256 "${manifest}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E tar czf ${OUT}.tmp --format=gnutar --mtime=2020-01-01 -- MANIFEST.sha256 ${names}
  WORKING_DIRECTORY ${STAGE}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "packing ${OUT} failed")
endif()
file(RENAME ${OUT}.tmp ${OUT})
