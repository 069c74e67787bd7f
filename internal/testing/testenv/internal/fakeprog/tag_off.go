//go:build !testenv_tag

package main

const tagged = false
