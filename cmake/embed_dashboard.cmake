# Generates the C++ source holding the dashboard's files as byte arrays.
# Run as: cmake -DSRC=<src/http/dashboard> -DOUT=<file.cpp> -P embed_dashboard.cmake
foreach(pair "html:index.html" "css:style.css" "js:app.js")
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 name)
  list(GET pair 1 file)
  file(READ "${SRC}/${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "((0x..,){20})" "\\1\n  " hex "${hex}")
  string(APPEND arrays "const unsigned char ${name}_bytes[] = {\n  ${hex}\n};\n\n")
  string(APPEND getters "std::string_view ${name}() {\n"
         "  return {reinterpret_cast<const char*>(${name}_bytes), sizeof(${name}_bytes)};\n}\n\n")
endforeach()
string(CONCAT text "// Generated from src/http/dashboard/ at build time; do not edit.\n"
         "#include \"http/dashboard_assets.hpp\"\n\n"
         "namespace ebuse::dashboard_assets {\n\nnamespace {\n\n${arrays}} // namespace\n\n"
         "${getters}} // namespace ebuse::dashboard_assets\n")
# Rewrite only on change, so that an unchanged page does not recompile.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
