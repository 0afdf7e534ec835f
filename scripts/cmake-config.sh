#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Writes mqtls's CMake package files into DIR (make install puts them in
# $(libdir)/cmake/mqtls), so that a CMake project finds an installed mqtls:
#   find_package(mqtls 0.9 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE mqtls::mqtls)
# mqtls::mqtls is the shared library; mqtls::mqtls_static the static one,
# with the libraries it needs (mbedTLS, c-ares). The files find the prefix
# from where they are, so a staged (DESTDIR) or moved tree works too.
# Usage: scripts/cmake-config.sh DIR VERSION "STATIC_LIBS" [MBEDTLS_LIBDIR]
set -eu
dir=$1 version=$2 libs=$3 mbedtls_libdir=${4:-}
mkdir -p "$dir"
major=${version%%.*}
cat >"$dir/mqtlsConfigVersion.cmake" <<CONF
# mqtls $version: any request with the same major version and not newer.
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION_MAJOR AND NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major")
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
    if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
        set(PACKAGE_VERSION_EXACT TRUE)
    endif()
endif()
CONF
cat >"$dir/mqtlsConfig.cmake" <<CONF
# mqtls $version, installed by make install. Targets:
#   mqtls::mqtls         the shared library (libmqtls.so)
#   mqtls::mqtls_static  the static library, with mbedTLS and c-ares
# Headers: #include <mqtls/mqtt/client.h> (only include/ is added).
get_filename_component(_mqtls_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET mqtls::mqtls)
    add_library(mqtls::mqtls SHARED IMPORTED)
    set_target_properties(mqtls::mqtls PROPERTIES
        IMPORTED_LOCATION "\${_mqtls_prefix}/lib/libmqtls.so.$version"
        IMPORTED_SONAME "libmqtls.so.$major"
        INTERFACE_INCLUDE_DIRECTORIES "\${_mqtls_prefix}/include")
endif()
if(NOT TARGET mqtls::mqtls_static)
    add_library(mqtls::mqtls_static STATIC IMPORTED)
    set(_mqtls_libs "")
    foreach(_mqtls_lib $libs)
        find_library(_mqtls_found_\${_mqtls_lib} \${_mqtls_lib} HINTS "$mbedtls_libdir")
        if(NOT _mqtls_found_\${_mqtls_lib})
            set(mqtls_FOUND FALSE)
            set(mqtls_NOT_FOUND_MESSAGE "mqtls::mqtls_static needs lib\${_mqtls_lib}, which was not found")
            return()
        endif()
        list(APPEND _mqtls_libs "\${_mqtls_found_\${_mqtls_lib}}")
    endforeach()
    set_target_properties(mqtls::mqtls_static PROPERTIES
        IMPORTED_LOCATION "\${_mqtls_prefix}/lib/libmqtls.a"
        INTERFACE_INCLUDE_DIRECTORIES "\${_mqtls_prefix}/include"
        INTERFACE_LINK_LIBRARIES "\${_mqtls_libs};pthread")
endif()
set(mqtls_VERSION "$version")
unset(_mqtls_prefix)
CONF
