package main

// What the development commands do, for the usage text of every build
// that has them (dev.go, devrun.go).
const (
	demoDoc     = "run the whole flow offline against the AWS emulator and a local registry"
	emulatorDoc = "serve the AWS + GitHub OIDC emulator on loopback"
)
