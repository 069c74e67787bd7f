// Package ghrunner reads a step's results the way the GitHub Actions
// runner does: file commands (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE) and
// workflow commands in the log (::add-mask::, ::error::, ...). The demo
// uses it to show what GitHub would show; tests use it to assert what a
// later step would see.
package ghrunner
