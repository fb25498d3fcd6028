# Strict warnings on our own targets only; third-party headers come in as SYSTEM includes.
function(zoomdiff_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
        -Wnull-dereference)
    if(ZOOMDIFF_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
