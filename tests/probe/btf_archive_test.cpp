// The BTF archive (probe/btf_archive.h): a kernel's file found at any depth and in every
// compression libarchive reads, and every hostile or damaged archive refused with why (links,
// devices, odd names, oversize members, too many entries, a compression bomb, a cut or foreign
// file, a member that is no BTF). The BTF bytes are real: the files the build embedded.
#include "probe/btf_archive.h"
#include "probe/btf_header.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <zlib.h>

#include <cstdio>

#include "probe/embedded_files.h"
#include "tests/support/tar_writer.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

using test::ArEntry;

std::string real_btf(std::string* release = nullptr) {
  const auto releases = embedded_btf_releases();
  if (releases.empty()) throw std::runtime_error("the build embedded no BTF file");
  if (release) *release = std::string(releases.front());
  const auto b = *embedded_btf(releases.front());
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

BtfArchiveLookup lookup(const std::filesystem::path& p, std::string_view release,
                        const BtfArchiveLimits& limits = {}) {
  return btf_from_archive(test::read_file(p), release, p.string(), limits);
}

TEST(BtfArchive, FindsTheReleaseAtAnyDepthInEveryCompression) {
  test::TempDir dir;
  std::string release;
  const std::string btf = real_btf(&release);
  const std::vector<ArEntry> entries = {
      {"centos/", "", AE_IFDIR},
      {"centos/7/x86_64/3.10.0-1160.el7.x86_64.btf", btf},
      {"ubuntu/20.04/x86_64/" + release + ".btf", btf},
  };
  for (const auto filter : {archive_write_add_filter_xz, archive_write_add_filter_gzip,
                            archive_write_add_filter_zstd, archive_write_add_filter_none}) {
    const auto file = dir / "a.tar";
    test::write_tar(file, entries, filter);
    auto r = lookup(file, release);
    EXPECT_EQ(r.problem, "");
    ASSERT_TRUE(r.btf.has_value());
    EXPECT_EQ(*r.btf, btf);
    r = lookup(file, "3.10.0-1160.el7.x86_64");
    EXPECT_TRUE(r.btf.has_value());
    // A release it does not hold, and one that only starts like one it holds: none, no problem.
    for (const auto* absent : {"9.9.9-nowhere", "3.10.0-1160.el7"}) {
      r = lookup(file, absent);
      EXPECT_FALSE(r.btf.has_value()) << absent;
      EXPECT_EQ(r.problem, "") << absent;
    }
  }
}

// Both readers refuse the archive at `file` for `why`: the lookup asking for `release`, and the
// installer's whole check.
void expect_both_refuse(const std::filesystem::path& file, std::string_view release,
                        const std::string& why, const BtfArchiveLimits& limits) {
  const auto r = lookup(file, release, limits);
  EXPECT_FALSE(r.btf.has_value());
  EXPECT_NE(r.problem.find(why), std::string::npos) << r.problem;
  try {
    check_btf_archive(test::read_file(file), file.filename().string(), limits);
    ADD_FAILURE() << "check_btf_archive took an archive refused for " << why;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

// What each hostile archive is refused for (the lookup asks for a release it does not hold, so
// every entry is seen).
void expect_refused(const std::vector<ArEntry>& entries, const std::string& why,
                    const BtfArchiveLimits& limits = {}) {
  SCOPED_TRACE(why);
  test::TempDir dir;
  test::write_tar(dir / "a.tar.xz", entries, archive_write_add_filter_xz);
  expect_both_refuse(dir / "a.tar.xz", "9.9.9-nowhere", why, limits);
}

TEST(BtfArchive, RefusesLinksDevicesAndOtherNames) {
  const std::string btf = real_btf();
  expect_refused({{"5.4.0-1.btf", "", AE_IFLNK, "/etc/shadow"}}, "not a regular file");
  expect_refused({{"a.btf", btf}, {"5.4.0-1.btf", "", AE_IFREG, "", "a.btf"}}, "hard link");
  expect_refused({{"5.4.0-1.btf", "", AE_IFCHR}}, "not a regular file");
  expect_refused({{"README", "hello"}}, "'README' is not named <kernel release>.btf or .btf.xz");
  expect_refused({{"5.4.0-1.btf.gz", "x"}}, "not named <kernel release>.btf");
  expect_refused({{"x/.btf", btf}}, "not named <kernel release>.btf");
  expect_refused({{"x/...btf", btf}}, "not named <kernel release>.btf");
  // A name with control characters is shown escaped, never raw.
  const auto name = std::string("evil\x1b[2Jname");
  test::TempDir dir;
  test::write_tar(dir / "a.tar", {{name, "x"}}, archive_write_add_filter_none);
  const auto r = lookup(dir / "a.tar", "x");
  EXPECT_EQ(r.problem.find('\x1b'), std::string::npos) << r.problem;
}

TEST(BtfArchive, RefusesWhatPassesItsLimits) {
  const std::string btf = real_btf();
  BtfArchiveLimits small;
  small.max_member_bytes = btf.size() - 1;
  expect_refused({{"5.4.0-1.btf", btf}}, "is larger than " + std::to_string(btf.size() - 1), small);
  small = {};
  small.max_entries = 2;
  expect_refused({{"d/", "", AE_IFDIR}, {"d/1.btf", btf}, {"d/2.btf", btf}}, "more than 2 entries",
                 small);
  // A bomb: a few KB of xz that unpack to 64 MB of zeros, over a 16 MB budget.
  small = {};
  small.max_unpacked_bytes = 16u << 20;
  small.max_member_bytes = 128u << 20;
  expect_refused({{"5.4.0-1.btf", std::string(64u << 20, '\0')}}, "unpacks to more than", small);
}

// A ustar header as a hostile tool writes it (libarchive's writer would not): name, size in
// octal, type flag, checksum.
std::string ustar_header(const std::string& name, std::size_t size, char type) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  h.replace(100, 8, "0000644", 8);
  h.replace(108, 8, "0000000", 8);
  h.replace(116, 8, "0000000", 8);
  char octal[13];
  std::snprintf(octal, sizeof octal, "%011zo", size);
  h.replace(124, 12, octal, 12);
  h.replace(136, 12, "00000000000", 12);
  h.replace(148, 8, "        ");
  h[156] = type;
  h.replace(257, 8,
            "ustar\0"
            "00",
            8);
  unsigned sum = 0;
  for (const unsigned char c : h) sum += c;
  std::snprintf(octal, sizeof octal, "%06o", sum);
  h.replace(148, 7, octal, 7);
  return h;
}

std::string padded(std::string data) {
  data.append((512 - data.size() % 512) % 512, '\0');
  return data;
}

// A pax extended header holding one record.
std::string pax_record(const std::string& key, const std::string& value) {
  std::string rec = " " + key + "=" + value + "\n";
  std::size_t n = rec.size() + 1;
  while (std::to_string(n).size() + rec.size() != n) n = std::to_string(n).size() + rec.size();
  rec = std::to_string(n) + rec;
  return ustar_header("PaxHeader/x", rec.size(), 'x') + padded(rec);
}

// Raw tar bytes zstd-compressed (libarchive's raw format: the stream, no tar of its own).
void write_zstd(const std::filesystem::path& out, const std::string& tar) {
  archive* a = archive_write_new();
  archive_write_add_filter_zstd(a);
  archive_write_set_format_raw(a);
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, tar.data(), tar.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

// Data libarchive would skip by itself, unpacked whole inside one header read: a GNU 'D' folder
// that keeps its size, and a member whose pax GNU.sparse.realsize hides the stored size. Both
// are refused within the unpacked budget (a few KB of zstd, 64 MiB of zeros behind them).
TEST(BtfArchive, DataLibarchiveWouldSkipIsCountedAsItIsUnpacked) {
  test::TempDir dir;
  std::string release;
  const std::string btf = real_btf(&release);
  const std::string zeros(64u << 20, '\0');
  const std::string good = ustar_header(release + ".btf", btf.size(), '0') + padded(btf);
  const std::string end(1024, '\0');
  BtfArchiveLimits budget;
  budget.max_unpacked_bytes = 16u << 20;
  budget.max_member_bytes = 128u << 20;

  write_zstd(dir / "d.tar.zst", ustar_header("d/", zeros.size(), 'D') + zeros + good + end);
  auto r = lookup(dir / "d.tar.zst", release, budget);
  EXPECT_FALSE(r.btf.has_value());
  EXPECT_NE(r.problem.find("'d/' is a folder with data"), std::string::npos) << r.problem;
  EXPECT_LT(r.unpacked_bytes, 1u << 20);

  write_zstd(dir / "s.tar.zst", pax_record("GNU.sparse.realsize", "100") +
                                    ustar_header("0.0.0-other.btf", zeros.size(), '0') + zeros +
                                    good + end);
  r = lookup(dir / "s.tar.zst", release, budget);
  EXPECT_FALSE(r.btf.has_value());
  EXPECT_FALSE(r.problem.empty());
  EXPECT_LT(r.unpacked_bytes, budget.max_unpacked_bytes + (2u << 20)) << r.problem;

  // The same member passed over within budget: the release after it is found.
  budget.max_unpacked_bytes = 128u << 20;
  write_zstd(dir / "ok.tar.zst",
             ustar_header("0.0.0-other.btf", zeros.size(), '0') + zeros + good + end);
  r = lookup(dir / "ok.tar.zst", release, budget);
  EXPECT_TRUE(r.btf.has_value()) << r.problem;
  EXPECT_GE(r.unpacked_bytes, zeros.size());
}

// Names are capped as the file system caps them (GNU long names reach 1 MB each).
TEST(BtfArchive, NamesLongerThanAFileSystemTakesAreRefused) {
  const std::string btf = real_btf();
  expect_refused({{std::string(300, 'a') + ".btf", btf}}, "longer than 255 bytes");
  std::string deep;
  while (deep.size() < 5000) deep += std::string(100, 'd') + "/";
  expect_refused({{deep + "5.4.0-1.btf", btf}}, "longer than 255 bytes (4096 with its folders)");
}

// The stream with its LZMA2 dictionary size set to `code` (xz-file-format 5.3.1: 40 is 4 GiB
// less one) and its block header's CRC32 made right again, as a hostile tool would write it.
std::string with_dictionary(std::string xz, unsigned char code) {
  constexpr std::size_t kBlock = 12;  // after the stream header
  const std::size_t size = (static_cast<unsigned char>(xz[kBlock]) + 1) * 4;
  const auto filter = xz.find("\x21\x01", kBlock);  // LZMA2's id and its one-byte properties
  if (filter == std::string::npos || filter + 2 >= kBlock + size - 4)
    throw std::runtime_error("no LZMA2 filter in the first block header");
  xz[filter + 2] = static_cast<char>(code);
  const auto crc = static_cast<std::uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(xz.data() + kBlock), size - 4));
  for (int i = 0; i < 4; ++i) xz[kBlock + size - 4 + i] = static_cast<char>(crc >> (8 * i));
  return xz;
}

// An archive compressed twice (libarchive would peel every layer, and the count taken between
// blocks would see only the last one's output), and a tar.xz whose stream asks for a 4 GiB
// dictionary: refused, while the same archive compressed once is read.
TEST(BtfArchive, RefusesAnArchiveCompressedTwiceOrWithAHugeDictionary) {
  test::TempDir dir;
  std::string release;
  const std::string btf = real_btf(&release);
  test::write_tar(dir / "a.tar", {{release + ".btf", btf}}, archive_write_add_filter_none);
  const std::string tar = test::read_file(dir / "a.tar");
  const auto refused_for = [&](const std::string& name, const std::string& bytes) {
    test::write_file(dir / name, bytes);
    const auto r = lookup(dir / name, release);
    EXPECT_FALSE(r.btf.has_value()) << name;
    return r.problem;
  };
  const auto gz = test::compressed(tar, archive_write_add_filter_gzip);
  const auto xz = test::xz_stream(tar);
  EXPECT_NE(refused_for("a.tar.gz.gz", test::compressed(gz, archive_write_add_filter_gzip))
                .find("is compressed more than once"),
            std::string::npos);
  EXPECT_NE(refused_for("a.tar.gz.xz", test::xz_stream(gz)).find("is compressed more than once"),
            std::string::npos);
  // An xz layer inside is not peeled at all: no tar there.
  EXPECT_NE(refused_for("a.tar.xz.xz", test::xz_stream(xz)).find("is not an intact tar archive"),
            std::string::npos);
  EXPECT_NE(refused_for("huge.tar.xz", with_dictionary(xz, 40))
                .find("the xz stream needs more than 80 MiB to unpack"),
            std::string::npos);
  for (const auto& [name, bytes] : {std::pair{"a.tar.gz", gz}, {"a.tar.xz", xz}}) {
    test::write_file(dir / name, bytes);
    EXPECT_EQ(lookup(dir / name, release).btf, btf) << name;
  }
}

TEST(BtfArchive, RefusesDamagedArchivesAndMembersThatAreNoBtf) {
  test::TempDir dir;
  std::string release;
  const std::string btf = real_btf(&release);
  test::write_tar(dir / "a.tar.xz", {{release + ".btf", btf}}, archive_write_add_filter_xz);
  const auto whole = test::read_file(dir / "a.tar.xz");
  test::write_file(dir / "cut.tar.xz", whole.substr(0, whole.size() / 2));
  auto r = lookup(dir / "cut.tar.xz", release);
  EXPECT_FALSE(r.btf.has_value());
  // Where the cut falls decides which read fails first: the first block's or a member's.
  EXPECT_TRUE(r.problem.find("is not an intact tar archive") != std::string::npos ||
              r.problem.find("truncated or corrupt") != std::string::npos)
      << r.problem;

  test::write_file(dir / "text", "this is not an archive, just some text long enough to look at\n");
  r = lookup(dir / "text", release);
  EXPECT_FALSE(r.btf.has_value());
  EXPECT_NE(r.problem.find("BTF archive " + (dir / "text").string()), std::string::npos)
      << r.problem;

  std::string flipped = btf;
  flipped[0] = static_cast<char>(flipped[0] ^ 0xff);
  test::write_tar(dir / "bad.tar.xz", {{release + ".btf", flipped}}, archive_write_add_filter_xz);
  r = lookup(dir / "bad.tar.xz", release);
  EXPECT_FALSE(r.btf.has_value());
  EXPECT_NE(r.problem.find("the BTF for " + release + ": not raw BTF"), std::string::npos)
      << r.problem;
}

TEST(BtfArchive, TheInstallersCheckListsEveryReleaseOnce) {
  test::TempDir dir;
  const std::string btf = real_btf();
  test::write_tar(dir / "a.tar.xz", {{"a/1.0-x.btf", btf}, {"b/2.0-y.btf", btf}},
                  archive_write_add_filter_xz);
  const auto checked = check_btf_archive(test::read_file(dir / "a.tar.xz"), "a", {}, "2.0-y");
  EXPECT_EQ(checked.releases, (std::vector<std::string>{"1.0-x", "2.0-y"}));
  EXPECT_EQ(checked.wanted, btf);  // the release asked for, from the same pass

  test::write_tar(dir / "twice.tar.xz", {{"a/1.0-x.btf", btf}, {"b/1.0-x.btf", btf}},
                  archive_write_add_filter_xz);
  EXPECT_THROW(
      {
        try {
          check_btf_archive(test::read_file(dir / "twice.tar.xz"), "twice");
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("holds the BTF for 1.0-x twice"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);

  test::write_tar(dir / "empty.tar.xz", {{"a/", "", AE_IFDIR}}, archive_write_add_filter_xz);
  EXPECT_THROW(check_btf_archive(test::read_file(dir / "empty.tar.xz"), "empty"),
               std::runtime_error);
}

// Members xz-compressed one by one in an uncompressed tar (as make_btf_archive.sh writes them):
// found and unpacked like raw ones, and only the one asked for is decoded; the walk to it
// reads a header and passes over the packed bytes of each member before it.
TEST(BtfArchive, MembersPackedOneByOneAreFoundAndOnlyTheOneAskedForIsUnpacked) {
  test::TempDir dir;
  std::string release;
  const std::string btf = real_btf(&release);
  const std::string packed = test::xz_stream(btf);
  ASSERT_LT(packed.size(), btf.size());
  std::vector<ArEntry> entries;
  for (int i = 0; i < 200; ++i)
    entries.push_back({"other/1.0." + std::to_string(i) + "-x.btf.xz", packed});
  entries.push_back({"centos/7/" + release + ".btf.xz", packed});
  entries.push_back({"raw/2.0-y.btf", btf});  // both kinds in one archive
  test::write_tar(dir / "a.tar", entries, archive_write_add_filter_none);
  const auto tar_size = std::filesystem::file_size(dir / "a.tar");

  auto r = lookup(dir / "a.tar", release);
  EXPECT_EQ(r.problem, "");
  ASSERT_TRUE(r.btf.has_value());
  EXPECT_EQ(*r.btf, btf);
  // The tar read up to the member, and one member unpacked: not the 200 before it.
  EXPECT_LT(r.unpacked_bytes, tar_size + 2 * btf.size());
  EXPECT_GE(r.unpacked_bytes, btf.size());
  EXPECT_EQ(lookup(dir / "a.tar", "2.0-y").btf, btf);

  const auto checked = check_btf_archive(test::read_file(dir / "a.tar"), "a", {}, release);
  EXPECT_EQ(checked.releases.size(), 202u);
  EXPECT_EQ(checked.wanted, btf);
  // One release both raw and packed is one release twice.
  test::write_tar(dir / "twice.tar", {{"1.0-x.btf", btf}, {"1.0-x.btf.xz", packed}},
                  archive_write_add_filter_none);
  EXPECT_THROW(check_btf_archive(test::read_file(dir / "twice.tar"), "twice"), std::runtime_error);
}

// A packed member is unpacked only when read: by the lookup asking for its release, and by the
// installer's whole check. Both refuse one that is not xz, cut, larger than a member may be, or
// holds no BTF.
void expect_packed_refused(const std::string& packed, const std::string& why,
                           const BtfArchiveLimits& limits = {}) {
  SCOPED_TRACE(why);
  test::TempDir dir;
  test::write_tar(dir / "a.tar", {{"5.4.0-1.btf.xz", packed}}, archive_write_add_filter_none);
  expect_both_refuse(dir / "a.tar", "5.4.0-1", why, limits);
  EXPECT_EQ(lookup(dir / "a.tar", "9.9.9-nowhere", limits).problem, "") << "not read, not judged";
}

TEST(BtfArchive, MembersPackedOneByOneAreRefusedWhenBad) {
  const std::string btf = real_btf();
  const std::string packed = test::xz_stream(btf);
  expect_packed_refused(btf, "'5.4.0-1.btf.xz' is not xz-compressed");
  expect_packed_refused(packed.substr(0, packed.size() / 2), "'5.4.0-1.btf.xz' is truncated");
  // One stream, unpacked once: nothing after it (a second stream, padding), and a member packed
  // twice is unpacked one layer only (its inside is no BTF).
  expect_packed_refused(packed + packed, "'5.4.0-1.btf.xz' has bytes after its xz stream");
  expect_packed_refused(packed + std::string(4, '\0'),
                        "'5.4.0-1.btf.xz' has bytes after its xz stream");
  expect_packed_refused(test::xz_stream(packed), "the BTF for 5.4.0-1: not raw BTF");
  expect_packed_refused(with_dictionary(packed, 40), "needs more than 80 MiB to unpack");
  BtfArchiveLimits small;
  small.max_member_bytes = btf.size() - 1;
  expect_packed_refused(packed, "'5.4.0-1.btf.xz' is larger than " + std::to_string(btf.size() - 1),
                        small);
  std::string flipped = btf;
  flipped[0] = static_cast<char>(flipped[0] ^ 0xff);
  expect_packed_refused(test::xz_stream(flipped), "the BTF for 5.4.0-1: not raw BTF");

  // Members that each pass, over the archive's budget together: what they unpack to counts.
  small = {};
  small.max_unpacked_bytes = 40 * btf.size() / 2;
  std::vector<ArEntry> many;
  for (int i = 0; i < 40; ++i) many.push_back({std::to_string(i) + ".0-x.btf.xz", packed});
  test::TempDir dir;
  test::write_tar(dir / "many.tar", many, archive_write_add_filter_none);
  ASSERT_LT(std::filesystem::file_size(dir / "many.tar"), small.max_unpacked_bytes);
  try {
    check_btf_archive(test::read_file(dir / "many.tar"), "many", small);
    ADD_FAILURE() << "members unpacking past the budget were taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unpacks to more than"), std::string::npos) << e.what();
  }
}

TEST(BtfArchive, HeaderCheckFollowsTheKernelsLayout) {
  const std::string btf = real_btf();
  EXPECT_EQ(btf_sections(btf).problem, "");
  EXPECT_FALSE(btf_sections(btf).strings.empty());
  for (const std::string& junk : {std::string(), std::string(100, 'x')}) {
    EXPECT_NE(btf_sections(junk).problem, "");
    EXPECT_EQ(btf_sections(junk).strings, "");
  }
  EXPECT_NE(btf_sections(btf.substr(0, 23)).problem, "");
  EXPECT_NE(btf_sections(btf.substr(0, btf.size() - 1)).problem, "");  // a section runs past
  std::string v2 = btf;
  v2[2] = 2;
  EXPECT_EQ(btf_sections(v2).problem, "BTF version is not 1");
}

}  // namespace
}  // namespace cnm::probe
