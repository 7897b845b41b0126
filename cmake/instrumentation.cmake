# Sanitizer and fuzzing builds, chosen with cache options instead of ad-hoc flags:
#   -DEBUSE_SANITIZE=address,undefined   the whole suite under ASan+UBSan
#   -DEBUSE_SANITIZE=thread              the concurrency tests under TSan
#   -DEBUSE_FUZZ=ON (clang only)         libFuzzer targets in tests/fuzz
# Included before the libraries are declared, so every target gets the flags.
set(EBUSE_SANITIZE "" CACHE STRING
    "Comma-separated -fsanitize= list for every target (e.g. address,undefined or thread)")
option(EBUSE_FUZZ "Build the libFuzzer targets of tests/fuzz (clang only)" OFF)

if(EBUSE_SANITIZE)
  # -fno-sanitize-recover: a UBSan finding fails the test instead of scrolling past.
  add_compile_options(-fsanitize=${EBUSE_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${EBUSE_SANITIZE})
endif()

if(EBUSE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "EBUSE_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage instrumentation for the code under test; the fuzzer's main is linked only
  # into the fuzz targets (tests/fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
