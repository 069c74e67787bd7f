package inputs

// EnvVar is one of the program's own environment variables that is no
// setting's fallback (those are Setting.Env): they steer the mode and the
// docker credential helper, which docker starts without arguments.
// EnvVars lists them; the README's table is generated from it
// (internal/testing/docs).
type EnvVar struct {
	Name string
	Doc  string
}

// Get reads the variable, as it is set.
func (v *EnvVar) Get(getenv func(string) string) string { return getenv(v.Name) }

// The program's own environment variables.
var (
	EnvMode = &EnvVar{Name: "ECR_CREDENTIALS_MODE",
		Doc: "`github`, `plugin` or `cli`: the mode of a run without a command, instead of the one read from the environment (GITHUB_ACTIONS, DRONE, CI=woodpecker, PLUGIN_*)."}
	EnvConfig = &EnvVar{Name: "ECR_CREDENTIALS_CONFIG",
		Doc: "Credential helper: the settings file it reads (settings by name, with the values their flags take). Unset, it reads the file a `refresh` login left beside it, if any."}
	EnvRegistries = &EnvVar{Name: "ECR_CREDENTIALS_REGISTRIES",
		Doc: "Credential helper: the `registries` setting's list (entries may name their own identity with `=<role ARN>` or `=profile:<name>`), when its settings file gives none."}
	EnvCacheDir = &EnvVar{Name: "ECR_CREDENTIALS_CACHE_DIR",
		Doc: "Credential helper: the token cache's directory (default `~/.cache/ecr-credentials`); `none` turns the cache off."}
	EnvDebug = &EnvVar{Name: "ECR_CREDENTIALS_DEBUG",
		Doc: "Credential helper: `true` logs what it does to stderr, and why a `get` found nothing."}
	EnvNativeAction = &EnvVar{Name: "ECR_CREDENTIALS_NATIVE_ACTION",
		Doc: "Set to `true` by the native action's launcher (native/) for the binary it runs: the run is where the job's later steps run (the runner's host, or act's job container), so the docker login edits the user's own docker config in place, even where `ACT=true` and a mounted workspace would otherwise mean a container action."}
	EnvAWSECRDisableCache = &EnvVar{Name: "AWS_ECR_DISABLE_CACHE",
		Doc: "Credential helper, as amazon-ecr-credential-helper reads it: any value turns the token cache off, unless ECR_CREDENTIALS_CACHE_DIR is set."}
	EnvAWSECRCacheDir = &EnvVar{Name: "AWS_ECR_CACHE_DIR",
		Doc: "Credential helper, as amazon-ecr-credential-helper reads it: the token cache's directory, unless ECR_CREDENTIALS_CACHE_DIR is set (no default of `~/.ecr` here)."}
	EnvAWSECRIgnoreCredsStorage = &EnvVar{Name: "AWS_ECR_IGNORE_CREDS_STORAGE",
		Doc: "Credential helper, as amazon-ecr-credential-helper reads it: `true` drops a `docker login` of a registry it does not answer for without an error, instead of refusing it."}
)

// EnvVars are the program's own environment variables, in the README's
// order.
var EnvVars = []*EnvVar{EnvMode, EnvNativeAction, EnvConfig, EnvRegistries, EnvCacheDir, EnvDebug,
	EnvAWSECRDisableCache, EnvAWSECRCacheDir, EnvAWSECRIgnoreCredsStorage}
