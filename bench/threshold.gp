# gnuplot script of bench/plot.sh: split and combine time of a 1 MiB
# secret against the threshold k (n = 20), per kernel
# (docs/perf-threshold.png).  Variables (gnuplot -e): dat (the data file:
# kernel, k, split us, combine us; one block per kernel, blocks separated
# by two blank lines), nk (how many kernels), out (the PNG), sub (a line
# under the title).
set terminal pngcairo size 1000,520 font "DejaVu Sans,10"
set output out
set multiplot layout 1,2 title "keyquorum Shamir: 1 MiB secret, k-of-20, time per call against k, per kernel (in-process, median)\n{/*0.8 ".sub."}"
set logscale y
set xlabel "threshold k (n = 20)"
set ylabel "time per call"
set xrange [1.5:20.5]
set xtics 2,2,20
set ytics ("10 µs" 10, "100 µs" 100, "1 ms" 1000, "10 ms" 10000, "100 ms" 100000, "1 s" 1e6)
set grid xtics ytics lc rgb "#dddddd"
set linetype 1 lc rgb "#8e44ad"
set linetype 2 lc rgb "#16a085"
set linetype 3 lc rgb "#2e86c1"
set linetype 4 lc rgb "#d68910"
set linetype 5 lc rgb "#333333"
set linetype 6 lc rgb "#c0392b"
set key bottom right box opaque font ",9"
set title "split (draws (k-1) MiB of randomness, evaluates at 20 points)"
plot for [i=0:nk-1] dat index i using 2:3 with linespoints lw 2 pt 7 ps 0.6 title columnheader(1)
set title "combine (k shares)"
plot for [i=0:nk-1] dat index i using 2:4 with linespoints lw 2 pt 5 ps 0.6 title columnheader(1)
unset multiplot
