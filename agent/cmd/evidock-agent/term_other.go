//go:build !windows

package main

import "os"

// enableANSI reports whether the terminal behind f takes escape sequences;
// every terminal outside Windows does.
func enableANSI(*os.File) bool { return true }
