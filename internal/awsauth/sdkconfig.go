package awsauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// sharedUse says whether a run's identity comes from the shared config
// (profiles in ~/.aws/config and ~/.aws/credentials) and whom to tell
// when it is set aside.
type sharedUse struct {
	// needed: the default chain or a named profile gives the identity.
	// A web identity token or static keys do not need the shared config.
	needed bool
	warn   func(string)
}

// sdkConfigMu serialises loading the SDK configuration: loading it
// without the shared config takes AWS_PROFILE out of the process
// environment for the moment of the load (see loadWithoutShared).
var sdkConfigMu sync.Mutex

// loadSDKConfig is config.LoadDefaultConfig, except that where the shared
// config is not needed a broken one (AWS_PROFILE naming a profile no file
// has, an unreadable or inconsistent file) does not fail the run: the
// configuration is loaded again without the shared config files, from the
// environment and our options alone (AWS_REGION, AWS_CA_BUNDLE,
// AWS_ENDPOINT_URL* and the rest still apply), with a warning. Where it is
// needed, the error names the missing profile.
func loadSDKConfig(ctx context.Context, use sharedUse, opts []func(*config.LoadOptions) error) (aws.Config, error) {
	sdkConfigMu.Lock()
	defer sdkConfigMu.Unlock()
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err == nil {
		return cfg, nil
	}
	if !use.needed && sharedConfigError(err) {
		if cfg, err2 := loadWithoutShared(ctx, opts); err2 == nil {
			if use.warn != nil {
				use.warn(setAsideReason(err) + "; the AWS SDK configuration was loaded without the shared config files, which this run's identity does not need (environment variables such as AWS_REGION, AWS_CA_BUNDLE and AWS_ENDPOINT_URL still apply).")
			}
			return cfg, nil
		}
	}
	return aws.Config{}, configProblem(err, opts)
}

// loadWithoutShared loads the SDK configuration with no shared config or
// credentials file. The SDK fails a load whenever AWS_PROFILE names a
// profile it cannot find, even with no file to find it in, and reads
// AWS_PROFILE from the process environment only: so it is unset for the
// load (under sdkConfigMu) and put back after.
func loadWithoutShared(ctx context.Context, opts []func(*config.LoadOptions) error) (aws.Config, error) {
	if v, ok := os.LookupEnv("AWS_PROFILE"); ok {
		os.Unsetenv("AWS_PROFILE")
		defer os.Setenv("AWS_PROFILE", v)
	}
	opts = append(opts[:len(opts):len(opts)],
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}))
	return config.LoadDefaultConfig(ctx, opts...)
}

// sharedConfigError reports whether err comes from the shared config
// files or the profile chosen in them.
func sharedConfigError(err error) bool {
	var (
		missing  config.SharedConfigProfileNotExistError
		load     config.SharedConfigLoadError
		assume   config.SharedConfigAssumeRoleError
		needsARN config.CredentialRequiresARNError
	)
	return errors.As(err, &missing) || errors.As(err, &load) || errors.As(err, &assume) || errors.As(err, &needsARN)
}

// setAsideReason says why the shared config was set aside, naming the
// profile (a profile name is not a secret) but quoting nothing from the
// files.
func setAsideReason(err error) string {
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		if env := os.Getenv("AWS_PROFILE"); env != "" && env == missing.Profile {
			return fmt.Sprintf("AWS_PROFILE names the profile %s, which %s", quoteValue(missing.Profile), inNoFile())
		}
		return fmt.Sprintf("the shared config refers to the profile %s, which %s", quoteValue(missing.Profile), inNoFile())
	}
	return "the shared AWS config files (" + sharedFiles() + ") could not be used"
}

// configProblem explains a failed load of the SDK configuration.
func configProblem(err error, opts []func(*config.LoadOptions) error) error {
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		var lo config.LoadOptions
		for _, o := range opts {
			_ = o(&lo) // our options do not fail; only the profile is read
		}
		p := &problem.Problem{Code: problem.InvalidSetting,
			What: fmt.Sprintf("the AWS profile %s is defined in none of the shared config files (%s)", quoteValue(missing.Profile), sharedFiles()),
			Fix:  "Check the profile's name, define it in one of these files (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose them), or unset AWS_PROFILE to use the default chain without a profile."}
		switch {
		case lo.SharedConfigProfile != "" && lo.SharedConfigProfile == missing.Profile:
			p.Subject = "profile " + quoteValue(missing.Profile)
			p.Fix = "Check the profile's name where it is given (registries entries =profile:<name>), or define it in one of these files (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose them)."
		case lo.SharedConfigProfile == "" && os.Getenv("AWS_PROFILE") == missing.Profile:
			p.Subject = "environment variable AWS_PROFILE"
		default:
			p.What = fmt.Sprintf("the AWS profile %s, which the shared config refers to (source_profile), is defined in none of the shared config files (%s)", quoteValue(missing.Profile), sharedFiles())
			p.Fix = "Check the source_profile entries of the profile in use, or define the profile they name."
		}
		return p
	}
	// Config file errors may quote the file, keys and all.
	return problem.Wrap(problem.InvalidSetting, problem.Safe(err), "loading the AWS SDK configuration failed",
		"Check the AWS_* environment variables and any AWS config files ("+sharedFiles()+"; AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE).")
}

func inNoFile() string { return "none of the shared config files (" + sharedFiles() + ") defines" }

// sharedFiles names the shared config and credentials files the SDK
// reads, for messages (paths, not contents).
func sharedFiles() string {
	cfg, creds := os.Getenv("AWS_CONFIG_FILE"), os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if cfg == "" {
		cfg = config.DefaultSharedConfigFilename()
	}
	if creds == "" {
		creds = config.DefaultSharedCredentialsFilename()
	}
	return quoteValue(cfg) + " and " + quoteValue(creds)
}
