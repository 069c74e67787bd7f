// Command fakeprog is a stand-in program for testenv's own tests: it reports
// its environment, echoes stdin, exits with a chosen code, fetches a URL over
// HTTPS (honouring SSL_CERT_FILE like any Go program) or sleeps, so that
// RunProgram and BuildBinary can be tested against a real process.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fakeprog env|stdin|exit N|pwd|tags|get URL|mask-and-sleep SECRET")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "env":
		env := os.Environ()
		sort.Strings(env)
		_ = json.NewEncoder(os.Stdout).Encode(env)
	case "stdin":
		_, _ = io.Copy(os.Stdout, os.Stdin)
	case "exit":
		code, _ := strconv.Atoi(os.Args[2])
		fmt.Fprint(os.Stdout, "to stdout")
		fmt.Fprint(os.Stderr, "to stderr")
		os.Exit(code)
	case "pwd":
		wd, _ := os.Getwd()
		fmt.Print(wd)
	case "tags":
		fmt.Printf("tagged=%v", tagged)
	case "get":
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			os.Exit(1)
		}
		resp.Body.Close()
		fmt.Print(resp.StatusCode)
	case "mask-and-sleep":
		// Announce a secret the way a GitHub action must, leak it to
		// stderr, then hang so that the caller's timeout fires.
		fmt.Printf("::add-mask::%s\n", os.Args[2])
		fmt.Fprintf(os.Stderr, "oops, the secret is %s\n", strings.TrimSpace(os.Args[2]))
		time.Sleep(time.Hour)
	default:
		fmt.Fprintln(os.Stderr, "fakeprog: unknown mode", os.Args[1])
		os.Exit(2)
	}
}
