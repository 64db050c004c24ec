// Command autoresearch runs an autonomous ML research loop on a GPU host and
// lets people steer it from Slack or the terminal.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
