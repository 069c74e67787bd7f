// Package inputs turns what a run was given (GitHub INPUT_* variables,
// Drone/Woodpecker PLUGIN_* settings, CLI flags, environment fallbacks)
// into one checked Config.
//
// Every setting is described once, in Table (table.go): its name in each
// CI, its default, its documentation and its Kind. The Kind chooses the
// parser (kinds.go; lists are read by registry.SplitList); a setting's own function only checks and stores the
// parsed value. Code elsewhere names a setting by its variable (RoleToAssume,
// AWSRegion, ...), never by a string. action.yml and docs/settings.md are
// generated from the table (internal/testing/docs).
//
// Files: kinds.go (modes and kinds, and the parser each kind chooses),
// setting.go (Setting), table.go (the settings), parse.go (the checks the
// settings share), load.go (Config and Load).
package inputs
