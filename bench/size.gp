# gnuplot script of bench/plot.sh: split and combine time against secret
# size (docs/perf-size.png).  Variables (gnuplot -e): dat (the data file:
# size, then split and combine us at 3-of-5, then at 5-of-10), out (the
# PNG), sub (a line under the title: machine, kernel, date).
set terminal pngcairo size 900,560 font "DejaVu Sans,10"
set output out
set title "keyquorum Shamir: time per call against secret size (in-process, median)\n{/*0.8 ".sub."}"
set logscale xy
set xlabel "secret size"
set ylabel "time per call"
set xtics ("1 KiB" 1024, "4 KiB" 4096, "16 KiB" 16384, "64 KiB" 65536, "256 KiB" 262144, \
	"1 MiB" 1048576, "4 MiB" 4194304, "16 MiB" 16777216, "64 MiB" 67108864, "256 MiB" 268435456)
set ytics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1000, "10 ms" 10000, "100 ms" 100000, \
	"1 s" 1e6, "10 s" 1e7)
set grid xtics ytics lc rgb "#dddddd"
set key top left box opaque
set xrange [800:350000000]
plot dat using 1:4 with linespoints lw 2 pt 7 lc rgb "#c0392b" title "split 5-of-10", \
	dat using 1:2 with linespoints lw 2 pt 7 lc rgb "#e67e22" title "split 3-of-5", \
	dat using 1:5 with linespoints lw 2 pt 5 lc rgb "#2471a3" title "combine 5-of-10", \
	dat using 1:3 with linespoints lw 2 pt 5 lc rgb "#5dade2" title "combine 3-of-5", \
	dat using 1:($1 / 1000.0) with lines dt 2 lc rgb "#7f8c8d" title "1 GB/s"
