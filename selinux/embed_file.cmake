# Turns a binary file into a C++ source holding its bytes, so cnmctl carries the packaged policy
# module itself and needs no data file at run time.
#   cmake -DIN=file.pp -DOUT=file.cpp -DSYMBOL=kName -P embed_file.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by selinux/embed_file.cmake. Do not edit.\n"
  "#include <cstddef>\n\nnamespace cnm::selinux {\n\n"
  "extern const unsigned char ${SYMBOL}[];\n"
  "extern const std::size_t ${SYMBOL}Size;\n"
  "const unsigned char ${SYMBOL}[] = {\n${bytes}\n};\n"
  "const std::size_t ${SYMBOL}Size = sizeof ${SYMBOL};\n\n}  // namespace cnm::selinux\n")
file(RENAME "${OUT}.tmp" "${OUT}")
