// Command launch runs one program for the benchmark and reports what it
// cost, measured from as close to the program as possible:
//
//	launch REPORT PROGRAM [ARG...]
//
// It starts PROGRAM with its own standard streams and environment, waits
// for it, writes "start end utime stime maxrss" to the file REPORT (start
// and end in Unix nanoseconds around fork and wait, CPU times in
// nanoseconds, maxrss in KiB, all from wait4) and exits with PROGRAM's
// status (128+N when signal N ended it).
//
// Why a launcher: Linux carries the high-water RSS of the address space a
// process leaves at exec into the new program's maxrss. A child forked by
// the benchmark itself (tens of MB, with the emulator inside) would report
// the benchmark's RSS; forked by this small program, it reports at most
// this program's (the bench prints that floor).
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: launch REPORT PROGRAM [ARG...]")
		os.Exit(2)
	}
	report, prog, argv := os.Args[1], os.Args[2], os.Args[2:]
	start := time.Now()
	pid, err := syscall.ForkExec(prog, argv, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "launch: start %s: %v\n", prog, err)
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	end := time.Now()
	if err != nil {
		fmt.Fprintf(os.Stderr, "launch: wait for %s: %v\n", prog, err)
		os.Exit(127)
	}
	line := fmt.Sprintf("%d %d %d %d %d\n", start.UnixNano(), end.UnixNano(), ru.Utime.Nano(), ru.Stime.Nano(), ru.Maxrss)
	if err := os.WriteFile(report, []byte(line), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "launch: write report: %v\n", err)
		os.Exit(127)
	}
	switch {
	case ws.Exited():
		os.Exit(ws.ExitStatus())
	case ws.Signaled():
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(127)
}
