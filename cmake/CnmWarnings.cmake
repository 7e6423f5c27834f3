# Warnings are errors for every target of ours (not for third-party headers, included as SYSTEM).
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
                    -Wcast-align -Wunused -Woverloaded-virtual
                    -Wformat=2 -Werror)
if(CNM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CNM_FUZZ)
  # libFuzzer is guided by the coverage of the code it runs: every library a fuzzer links is
  # compiled with the counters (the fuzzers add the driver, -fsanitize=fuzzer). Without them
  # only the fuzzer's own file counts, and a mutation that gets deeper into a parser is not kept.
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>)
endif()
