# `cmake --install build --prefix <dir>`: bin/ the six tools; share/zoomdiff/configs/ the YAML
# files the tools embed (to read and copy: --config takes a path or an embedded name);
# share/man/man1/ a page per tool, generated from its own --help and --version by Debian's
# help2man, so the pages cannot drift from the flags.
include(GNUInstallDirs)

set(ZOOMDIFF_TOOLS grid_meta env_extra zoomdiff_train zoomdiff_infer zoomdiff_eval uomo_import)
set(ZOOMDIFF_TOOL_SUMMARY_grid_meta "grid station series into a city's 500 m training targets")
set(ZOOMDIFF_TOOL_SUMMARY_env_extra "extract a city's grid conditions from population, OSM and POI data")
set(ZOOMDIFF_TOOL_SUMMARY_zoomdiff_train "train a ZoomDiff model on one or more cities")
set(ZOOMDIFF_TOOL_SUMMARY_zoomdiff_infer "generate multi-scale weekly maps for cities with a trained model")
set(ZOOMDIFF_TOOL_SUMMARY_zoomdiff_eval "score generated maps against real data and baselines")
set(ZOOMDIFF_TOOL_SUMMARY_uomo_import "turn a UoMo-format .npz into zoomdiff city folders")

set(_installed "")
foreach(tool IN LISTS ZOOMDIFF_TOOLS)
    if(TARGET ${tool})
        list(APPEND _installed ${tool})
    endif()
endforeach()
install(TARGETS ${_installed} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${ZOOMDIFF_CONFIG_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/zoomdiff/configs)
# README.md, docs/ and the figures they show, laid out as in the repository so the links resolve.
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/figures/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/data/figures)

option(ZOOMDIFF_MAN_PAGES "Generate man pages with help2man (scripts/setup.sh installs it)" ON)
if(ZOOMDIFF_MAN_PAGES)
    find_program(HELP2MAN_PROGRAM help2man)
    if(NOT HELP2MAN_PROGRAM)
        message(FATAL_ERROR "help2man not found: run scripts/setup.sh (apt-get install help2man), "
                            "or configure with -DZOOMDIFF_MAN_PAGES=OFF to build without man pages")
    endif()
    set(_pages "")
    foreach(tool IN LISTS _installed)
        set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
        # The tools log nothing on --help/--version; OMP_WAIT_POLICY set keeps the torch tools
        # from re-executing themselves (core::prefer_passive_openmp) while help2man reads them.
        add_custom_command(OUTPUT ${page}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
            COMMAND ${CMAKE_COMMAND} -E env OMP_WAIT_POLICY=PASSIVE
                    ${HELP2MAN_PROGRAM} --no-info --section=1 --source=zoomdiff
                    "--name=${ZOOMDIFF_TOOL_SUMMARY_${tool}}" --output=${page} $<TARGET_FILE:${tool}>
            DEPENDS ${tool}
            COMMENT "help2man ${tool}.1"
            VERBATIM)
        list(APPEND _pages ${page})
    endforeach()
    add_custom_target(man_pages ALL DEPENDS ${_pages})
    install(FILES ${_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
