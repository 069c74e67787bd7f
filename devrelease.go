//go:build release

package main

import "github.com/ecr-credentials/ecr-credentials/internal/app"

// devCommands: a release build carries no development commands.
var devCommands []app.DevCommand
