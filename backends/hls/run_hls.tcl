# run_hls.tcl -- build an snnc HLS project with Vitis HLS (package data of snnc.backends.hls).
#
#   vitis_hls -f run_hls.tcl              C simulation, synthesis, and export as an IP
#
# The project's own settings (top function, sources, part, clock) come from hls_config.tcl,
# written by `snnc compile --target hls` (the part: its --part option). The C simulation needs
# an events file, which snnc compile does not write: make one with
# snnc.backends.hls.events.write_events (docs/hls.md, its first example) and name it in the environment
# variable SNN_EVENTS (default: events.bin in the current folder); results go to csim_out/.
source [file join [file dirname [info script]] hls_config.tcl]

open_project -reset snn_hls_prj
set_top $snn_top
foreach f $snn_sources { add_files $f -cflags "-std=c++14" }
foreach f $snn_headers { add_files $f }
set events events.bin
if {[info exists ::env(SNN_EVENTS)]} { set events $::env(SNN_EVENTS) }
file mkdir csim_out
add_files -tb $snn_testbench -cflags "-std=c++14"

open_solution -reset solution1 -flow_target vivado
set_part $snn_part
create_clock -period $snn_clock_ns -name default

csim_design -argv "[file normalize $events] [file normalize csim_out]"
csynth_design
export_design -format ip_catalog
exit
