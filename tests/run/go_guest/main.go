// tests/run/go_guest/main.go — a Go guest, as a user of wetware's Go `ww run` writes one: it
// reads its descriptors the way `util.GetFDMap()` does (its own code, from the contract in
// README.md: prefix WW_FD_, name lower-cased, a value that is not an integer skipped) and
// exercises the Go runtime inside the jail. Each mode prints JSON lines that
// tests/run/go_guest_test.ts checks. Built by the test, statically (CGO_ENABLED=0) and with cgo.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// getFDMap is util.GetFDMap's contract: WW_FD_<NAME>=<fd> gives name (lower-cased) -> fd.
func getFDMap() map[string]int {
	m := map[string]int{}
	for _, kv := range os.Environ() {
		key, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, "WW_FD_") {
			continue
		}
		fd, err := strconv.Atoi(value)
		if err != nil {
			continue
		}
		m[strings.ToLower(strings.TrimPrefix(key, "WW_FD_"))] = fd
	}
	return m
}

func report(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// threads is this process's count of OS threads, from /proc/self/status.
func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Threads:")))
			return n
		}
	}
	return -1
}

// grants uses each grant it knows by name: reads "in" to its end, writes a line to "out", and
// answers one connection on "srv".
func grants() {
	m := getFDMap()
	report(map[string]any{"map": m})
	if fd, ok := m["in"]; ok {
		b, err := io.ReadAll(os.NewFile(uintptr(fd), "in"))
		report(map[string]any{"in": string(b), "err": errText(err)})
	}
	if fd, ok := m["out"]; ok {
		f := os.NewFile(uintptr(fd), "out")
		_, err := f.WriteString("written by go\n")
		report(map[string]any{"out": "written", "err": errText(err)})
		f.Close()
	}
	if fd, ok := m["srv"]; ok {
		l, err := net.FileListener(os.NewFile(uintptr(fd), "srv"))
		if err != nil {
			report(map[string]any{"accept": "", "err": errText(err)})
			return
		}
		c, err := l.Accept()
		if err == nil {
			_, err = c.Write([]byte("hello from go\n"))
			c.Close()
		}
		report(map[string]any{"accept": "answered", "err": errText(err)})
	}
}

// exercise runs goroutines, holds `locked` OS threads at once, starts programs with os/exec,
// collects garbage and waits on a timer.
func exercise(locked int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sum := 0
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Millisecond)
			mu.Lock()
			sum += i
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	ready := make(chan struct{})
	release := make(chan struct{})
	for i := 0; i < locked; i++ {
		go func() {
			runtime.LockOSThread()
			ready <- struct{}{}
			<-release
		}()
	}
	for i := 0; i < locked; i++ {
		<-ready
	}
	held := threads()
	close(release)
	self, selfErr := exec.Command(os.Args[0], "child").Output()
	sh, shErr := exec.Command("/bin/sh", "-c", "echo from sh").Output()
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		b := make([]byte, 1<<20)
		b[0] = 1
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	start := time.Now()
	<-time.After(50 * time.Millisecond)
	report(map[string]any{
		"sum": sum, "threads": held, "goroutines": before,
		"self": string(self), "selfErr": errText(selfErr), "sh": string(sh), "shErr": errText(shErr),
		"gcs": ms.NumGC, "timerMs": time.Since(start).Milliseconds(),
	})
}

// preempt spins one goroutine on one P: only the runtime's asynchronous preemption (SIGURG sent
// to the spinning thread) lets the sleeping main goroutine run again.
func preempt() {
	runtime.GOMAXPROCS(1)
	go func() {
		for {
		}
	}()
	start := time.Now()
	time.Sleep(100 * time.Millisecond)
	report(map[string]any{"preemptedMs": time.Since(start).Milliseconds()})
}

// awaitSignal tells it is ready, then exits 42 on `sig`, saying so.
func awaitSignal(sig os.Signal, spin bool) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, sig)
	report(map[string]any{"ready": true})
	if spin {
		go func() {
			for {
			}
		}()
	}
	got := <-c
	report(map[string]any{"signal": got.String()})
	os.Exit(42)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_guest grants|exercise N|child|preempt|sigterm|xcpu|spin|sleep D")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "grants":
		grants()
	case "exercise":
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			panic(err)
		}
		exercise(n)
	case "child":
		fmt.Println("child ran")
	case "preempt":
		preempt()
	case "sigterm":
		awaitSignal(syscall.SIGTERM, false)
	case "xcpu":
		awaitSignal(syscall.SIGXCPU, true)
	case "spin":
		for {
		}
	case "sleep":
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			panic(err)
		}
		time.Sleep(d)
		report(map[string]any{"woke": true})
	default:
		fmt.Fprintln(os.Stderr, "go_guest: unknown mode", os.Args[1])
		os.Exit(2)
	}
}
