package awsauth

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/smithy-go"

	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// failedProvider names the SDK credential provider err came from and says
// what to check, without using the error's text: providers quote what they
// got (credential_process puts the command's whole output in its error,
// keys and all).
func failedProvider(err error) (name, check string) {
	var pe *processcreds.ProviderError
	if errors.As(err, &pe) {
		return "credential_process of the shared config profile",
			"Run the profile's credential_process command by hand: it must exit 0 and print only the credentials JSON document (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration) on stdout; anything else goes to stderr."
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		switch oe.Service() {
		case "SSO", "SSO OIDC":
			return "IAM Identity Center (SSO) profile", "Run `aws sso login` for the profile, and check its sso_* settings."
		case "Signin":
			return "console login profile", "Run `aws login` for the profile."
		case "STS":
			if oe.Operation() == "AssumeRoleWithWebIdentity" {
				return "web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)", "Check that the file holds a current token and that the role trusts its issuer."
			}
			return "role_arn of the shared config profile", "Check the profile's role_arn and source_profile or credential_source, and that the source identity may assume the role."
		case "endpoint-credentials":
			return "container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI)", "Check that the task or pod has a role and that the endpoint variables are current."
		case "ec2imds":
			return "", "" // the end of the chain: nothing gave credentials
		}
	}
	return "the AWS SDK default chain", ""
}

// credentialFailure explains a default-chain (or profile) failure with the
// provider's name and a safe class of the error, never the error's text.
func credentialFailure(err error) error {
	safe := problem.Safe(err)
	if p := problem.FromContext(safe, "the AWS SDK default credential chain", "AWS_ENDPOINT_URL*"); p != nil {
		return p
	}
	name, check := failedProvider(err)
	if problem.Class(err) == problem.Withheld {
		safe = nil // says nothing
	}
	p := noCredentials(safe)
	if name == "" {
		p.What = "no AWS credentials found (not in the environment, the shared config and credentials files, a container credentials endpoint or an EC2 instance role)"
		return p
	}
	p.What = "no AWS credentials found: " + name + " failed"
	if check != "" {
		p.Fix = check
	}
	return p
}
