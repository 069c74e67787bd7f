//go:build release

package app

// devCommands: a release build carries no development commands.
var devCommands []devCommand
