package awsauth

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
	"github.com/ecr-credentials/ecr-credentials/internal/securefile"
)

// checkSharedFiles refuses, before the AWS SDK reads them, shared config
// and credentials files (and, with tokenFile, the SDK's web identity token
// file, which its default chain reads) that are not regular files: the
// SDK reads them with os.ReadFile, which blocks on a named pipe past the
// step's timeout and reads a device without end. It looks where the SDK
// looks: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config
// and ~/.aws/credentials. A missing file is fine.
func checkSharedFiles(getenv func(string) string, tokenFile bool) error {
	home, _ := os.UserHomeDir()
	for _, f := range []struct{ variable, name string }{
		{"AWS_CONFIG_FILE", "config"},
		{"AWS_SHARED_CREDENTIALS_FILE", "credentials"},
		{"AWS_WEB_IDENTITY_TOKEN_FILE", ""},
	} {
		path, subject := getenv(f.variable), "environment variable "+f.variable
		if path == "" && f.name != "" && home != "" {
			path, subject = filepath.Join(home, ".aws", f.name), "the AWS shared "+f.name+" file"
		}
		if path == "" || f.name == "" && !tokenFile {
			continue
		}
		if err := securefile.CheckRegular(path); errors.Is(err, securefile.ErrNotRegular) {
			return &problem.Problem{Code: problem.InvalidSetting, Subject: subject, Err: err,
				What: "the AWS SDK would read it, and it is not a regular file it can read within the step's timeout",
				Fix:  "Make it a regular file, or point " + f.variable + " at one."}
		}
	}
	return nil
}

// loadSettingAside loads the SDK configuration without the shared files,
// which this run's identity does not need, when checkSharedFiles refused
// one (err), and says so, as loadSDKConfig does for a broken one.
func loadSettingAside(ctx context.Context, use sharedUse, opts []func(*config.LoadOptions) error, err error) (aws.Config, error) {
	sdkConfigMu.Lock()
	defer sdkConfigMu.Unlock()
	cfg, lerr := loadWithoutShared(ctx, opts)
	if lerr != nil {
		return aws.Config{}, configProblem(lerr, opts)
	}
	if use.warn != nil {
		use.warn(problem.As(err).Subject + ": " + problem.As(err).Err.Error() + "; the AWS SDK configuration was loaded without the shared config files, which this run's identity does not need.")
	}
	return cfg, nil
}
