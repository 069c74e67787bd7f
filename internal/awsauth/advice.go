package awsauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/ecr-credentials/ecr-credentials/internal/inputs"
	"github.com/ecr-credentials/ecr-credentials/internal/oidc"
	"github.com/ecr-credentials/ecr-credentials/internal/problem"
)

// Advice is what a person is told about one AWS error code: the problem
// code, what went wrong and what to do about it.
type Advice struct {
	// Problem is the problem code; empty means the failing service's own
	// (sts-failed, ecr-failed).
	Problem problem.Code
	What    string
	Fix     string
	// Trust marks a refusal of the web identity token, by the role's trust
	// policy or the account's OIDC provider: the message then shows the
	// token's claims next to what must match them (see explainTrust).
	Trust bool
}

// The operations advice can be specific to; AnyOperation is any call that
// is signed with AWS credentials (AssumeRole, GetCallerIdentity, ECR's
// GetAuthorizationToken).
const (
	AnyOperation                = ""
	OpAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	OpAssumeRole                = "AssumeRole"
)

// AdviceKey is an AWS error code as answered to an operation.
type AdviceKey struct{ Operation, Code string }

// credentialsRejected and friends are shared by the codes STS (awsQuery)
// and the JSON services (ECR) use for the same failure.
var (
	unknownKey = Advice{Problem: problem.CredentialsRejected,
		What: "AWS does not know the access key ID of the credentials",
		Fix: "Check the access key ID: it may be mistyped, deactivated or deleted, belong to another partition than the region (aws-cn, aws-us-gov), " +
			"or be a temporary key given without its session token (aws-session-token / AWS_SESSION_TOKEN). " +
			"Better still, drop long-lived keys for role-to-assume with the CI's OIDC token."}
	badSignature = Advice{Problem: problem.CredentialsRejected,
		What: "the request signature does not match: the secret access key is not the one of this access key ID",
		Fix: "Check the secret access key: the whole value, without added spaces, quotes or line break, from the same key pair as the access key ID. " +
			"If both are right, check this machine's clock."}
	unsigned = Advice{Problem: problem.CredentialsRejected,
		What: "the request reached AWS without credentials",
		Fix: "Give credentials (role-to-assume with an OIDC token, or aws-access-key-id and aws-secret-access-key); " +
			"if AWS_ENDPOINT_URL* is set, check that it points to the AWS API and that nothing in between strips the Authorization header."}
	expiredSession = Advice{Problem: problem.CredentialsRejected,
		What: "the AWS session credentials have expired",
		Fix: "Temporary credentials (those with a session token) last at most 12 hours and cannot be renewed: give fresh ones, " +
			"or use role-to-assume with the CI's OIDC token, which gets new credentials in every job."}
	throttled = Advice{
		What: "AWS kept throttling the calls (too many requests) through every retry",
		Fix: "Raise the `timeout` setting (retries go on until it ends), or spread out the jobs that log in at the same moment " +
			"(ECR allows about 20 GetAuthorizationToken calls per second per account and region, STS a few hundred per account)."}
	serverError = Advice{
		What: "AWS kept answering with server errors through every retry",
		Fix:  "The service is failing in this region: check the AWS Health Dashboard, and run the job again once it has recovered."}
	trustDenied = Advice{Problem: problem.AssumeRoleDenied, Trust: true,
		What: "STS refused to let the web identity token assume the role",
		Fix: "Check the role's trust policy: its Principal must be the account's OIDC provider for the token's issuer " +
			"(arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com for GitHub), " +
			"and its conditions on the token's `aud` and `sub` (e.g. repo:OWNER/REPO:ref:refs/heads/main) must match this job."}
	roleDenied = Advice{Problem: problem.AssumeRoleDenied,
		What: "STS refused to let the caller assume the role",
		Fix: "Check that the role's trust policy names the calling principal (or its account), that the caller may sts:AssumeRole it " +
			"(and sts:TagSession / sts:SetSourceIdentity when tags or a source identity are set), and that role-external-id matches the trust policy's sts:ExternalId condition."}
)

// adviceTable is the one table from AWS error code to advice, for STS and
// for ECR. Codes the SDK retries (throttling, server errors,
// IDPCommunicationError) appear here for when retrying ran out of time
// with the service's answer as the last word. A credential error never
// says "re-run": running again changes nothing.
var adviceTable = map[AdviceKey]Advice{
	// The credentials of a signed call.
	{AnyOperation, "InvalidClientTokenId"}:                unknownKey,
	{AnyOperation, "UnrecognizedClientException"}:         unknownKey, // ECR's name
	{AnyOperation, "SignatureDoesNotMatch"}:               badSignature,
	{AnyOperation, "InvalidSignatureException"}:           badSignature, // ECR's name
	{AnyOperation, "IncompleteSignature"}:                 {Problem: problem.CredentialsRejected, What: "the request signature is incomplete", Fix: "Check that both the access key ID and the secret access key are given and whole; if a proxy sits in between, check that it leaves the Authorization header alone."},
	{AnyOperation, "MissingAuthenticationToken"}:          unsigned,
	{AnyOperation, "MissingAuthenticationTokenException"}: unsigned, // ECR's name
	{AnyOperation, "ExpiredToken"}:                        expiredSession,
	{AnyOperation, "ExpiredTokenException"}:               expiredSession, // ECR's name
	{AnyOperation, "AccessDenied"}:                        {What: "AWS denied the call", Fix: "Check the IAM permissions of the credentials for this call, and any permissions boundary, session policy or SCP that limits them."},

	// The web identity token (AssumeRoleWithWebIdentity).
	{OpAssumeRoleWithWebIdentity, "AccessDenied"}:          trustDenied,
	{OpAssumeRoleWithWebIdentity, "AccessDeniedException"}: trustDenied,
	{OpAssumeRoleWithWebIdentity, "InvalidIdentityToken"}: {Problem: problem.InvalidIdentityToken, Trust: true,
		What: "STS rejected the web identity token",
		Fix:  "Make sure the account has an IAM OIDC identity provider for this token's issuer and that its audience list contains the `audience` setting (default sts.amazonaws.com)."},
	{OpAssumeRoleWithWebIdentity, "IDPRejectedClaim"}: {Problem: problem.InvalidIdentityToken, Trust: true,
		What: "the OIDC identity provider or STS rejected a claim of the web identity token",
		Fix:  "Check that the token is current and issued for this job, and that the account's OIDC provider for its issuer is configured for its audience."},
	{OpAssumeRoleWithWebIdentity, "ExpiredTokenException"}: {Problem: problem.InvalidIdentityToken,
		What: "the web identity token had expired when STS received it",
		Fix: "The token was issued too long before this call, or the clocks disagree: check the runner's clock, " +
			"and that a token file is refreshed by whatever writes it (a projected service account token is)."},
	{OpAssumeRoleWithWebIdentity, "IDPCommunicationError"}: {
		What: "STS could not reach the token's OIDC provider to check the token, through every retry",
		Fix: "STS fetches the issuer's /.well-known/openid-configuration and keys from the internet: check that they are reachable there " +
			"(a GitHub Enterprise Server or Forgejo instance behind a firewall is not), or raise `timeout` if the provider is only slow."},

	// sts:AssumeRole (a role chain, static keys, the default chain).
	{OpAssumeRole, "AccessDenied"}:          roleDenied,
	{OpAssumeRole, "AccessDeniedException"}: roleDenied,

	// The region and the service.
	{AnyOperation, "RegionDisabledException"}: {
		What: "STS is not activated in this region for the account",
		Fix: "Activate the region's STS endpoint in IAM (Account settings, Security Token Service (STS), Endpoints) or set aws-region to a region where it is active; " +
			"an opt-in region must also be enabled for the account."},
	{AnyOperation, "Throttling"}:           throttled,
	{AnyOperation, "ThrottlingException"}:  throttled,
	{AnyOperation, "RequestLimitExceeded"}: throttled,
	{AnyOperation, "InternalFailure"}:      serverError,
	{AnyOperation, "ServiceUnavailable"}:   serverError,

	// The request's parameters.
	{AnyOperation, "ValidationError"}: {Problem: problem.InvalidSetting,
		What: "STS refused the request's parameters",
		Fix:  "Check role-to-assume, role-session-name and role-duration-seconds against the message."},
	{AnyOperation, "MalformedPolicyDocument"}: {Problem: problem.InvalidSetting,
		What: "STS refused the session policy",
		Fix:  "Check inline-session-policy: it must be an IAM policy document in JSON."},
	{AnyOperation, "PackedPolicyTooLarge"}: {Problem: problem.InvalidSetting,
		What: "the session policies and session tags together are too large for STS",
		Fix:  "Shorten inline-session-policy, name fewer managed-session-policies, or give fewer role-session-tags (role-skip-session-tagging drops the default ones)."},
	{AnyOperation, "InvalidParameterValue"}: {Problem: problem.InvalidSetting,
		What: "STS refused a parameter value",
		Fix:  "Check managed-session-policies (ARNs of managed policies) and role-session-tags (tag keys are compared without case)."},
}

// AdviceTable returns a copy of the table, for tests and documentation.
func AdviceTable() map[AdviceKey]Advice {
	out := make(map[AdviceKey]Advice, len(adviceTable))
	for k, v := range adviceTable {
		out[k] = v
	}
	return out
}

// AdviceFor returns the advice for code as answered to operation: the
// operation's own, else the one for any signed call.
func AdviceFor(operation, code string) (Advice, bool) {
	if a, ok := adviceTable[AdviceKey{operation, code}]; ok {
		return a, true
	}
	if operation == OpAssumeRoleWithWebIdentity {
		// The web identity call is not signed: advice about credentials
		// (keys, signatures, sessions) does not apply to it.
		a, ok := adviceTable[AdviceKey{AnyOperation, code}]
		if !ok || a.Problem == problem.CredentialsRejected {
			return Advice{}, false
		}
		return a, true
	}
	a, ok := adviceTable[AdviceKey{AnyOperation, code}]
	return a, ok
}

// stsProblem explains a failed STS call (op) made for role.
func stsProblem(err error, op string, role inputs.RoleARN) error {
	if e := problem.FromContext(err, "STS "+op, "AWS_ENDPOINT_URL*"); e != nil {
		return e
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return problem.Wrap(problem.STSFailed, problem.Safe(err), "STS "+op+" failed",
			"Check network access to STS (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL if set) and re-run.")
	}
	msg := fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	a, ok := AdviceFor(op, ae.ErrorCode())
	if !ok {
		return problem.Wrap(problem.STSFailed, msg, "STS "+op+" failed", "If it persists, check the AWS Health Dashboard and the error code above.")
	}
	p := &problem.Problem{Code: a.Problem, Err: msg, What: a.What + " (STS " + op + ")", Fix: a.Fix}
	if p.Code == "" {
		p.Code = problem.STSFailed
	}
	switch {
	case a.Problem == problem.AssumeRoleDenied && role.ARN != "":
		p.What = strings.Replace(a.What, "the role", role.ARN, 1)
	case ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "DurationSeconds"):
		p.Fix = "Lower role-duration-seconds to at most the role's maximum session duration (1 hour unless raised in IAM; 1 hour at most for a role chain)."
	}
	return p
}

// webIdentityProblem explains a failed AssumeRoleWithWebIdentity; when
// the token was refused (Advice.Trust), with the token's claims next to
// what the trust policy and the OIDC provider must match.
func webIdentityProblem(err error, role inputs.RoleARN, token string) error {
	perr := stsProblem(err, OpAssumeRoleWithWebIdentity, role)
	var ae smithy.APIError
	var p *problem.Problem
	if !errors.As(err, &ae) || !errors.As(perr, &p) {
		return perr
	}
	if a, ok := AdviceFor(OpAssumeRoleWithWebIdentity, ae.ErrorCode()); ok && a.Trust {
		explainTrust(p, token, role)
	}
	return perr
}

// maxClaimLen bounds each claim value shown: longer ones are shortened.
const maxClaimLen = 200

// quoteValue renders a claim value from the token for a message: quoted
// (so quotes, line breaks and control characters are escaped and it
// cannot end the line or pass for our own words) and shortened. The
// console then redacts secrets and neutralises workflow commands in the
// whole line (output.Console).
func quoteValue(v string) string {
	return strconv.Quote(problem.Shorten(v, maxClaimLen))
}

// explainTrust rewrites a refusal of the web identity token (p) to show
// the token's non-secret claims, decoded without verification (never the
// token itself), and what must match them: the OIDC provider's ARN in the
// role's partition and account, and the trust policy's conditions on
// <provider>:aud and <provider>:sub with this token's values.
func explainTrust(p *problem.Problem, token string, role inputs.RoleARN) {
	c, err := oidc.ReadClaims(token)
	if err != nil {
		p.What += " (" + err.Error() + ")"
		return
	}
	aud := ""
	if len(c.Audience) > 0 {
		aud = c.Audience[0]
	}
	var auds []string
	for _, a := range c.Audience {
		auds = append(auds, quoteValue(a))
	}
	claims := "iss " + quoteValue(c.Issuer)
	if by := c.IssuedBy(); by != "" {
		claims += " (" + by + ")"
	}
	claims += ", sub " + quoteValue(c.Subject) + ", aud " + strings.Join(auds, " ")
	if len(auds) == 0 {
		claims += `""`
	}
	if c.JobWorkflowRef != "" {
		claims += ", job_workflow_ref " + quoteValue(c.JobWorkflowRef)
	}
	p.What += "; the token's claims: " + claims

	path := c.ProviderPath()
	if path == "" {
		p.Fix = "The token's issuer is not an https URL, and STS trusts only OIDC providers registered in IAM by their https issuer URL: check where the token comes from (web-identity-token-file / web-identity-token-env)."
		return
	}
	partition, account := role.Partition, role.AccountID
	if partition == "" {
		partition = "aws"
	}
	if account == "" {
		account = "<account>"
	}
	provider := fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", partition, account, path)
	cond := func(key string) string { return quoteValue(path + ":" + key) }
	var fix strings.Builder
	if p.Code == problem.AssumeRoleDenied {
		fmt.Fprintf(&fix, "The trust policy of %s must allow sts:AssumeRoleWithWebIdentity to the Principal {\"Federated\": %q} "+
			"with conditions this token meets: %s equal to %s, and %s equal to %s",
			roleName(role), provider, cond("aud"), quoteValue(aud), cond("sub"), quoteValue(c.Subject))
		if w := subjectWildcard(c.Subject); w != "" {
			fmt.Fprintf(&fix, " (or StringLike a pattern that matches it, such as %s)", quoteValue(w))
		}
		fix.WriteString(".")
	} else {
		fmt.Fprintf(&fix, "Account %s needs the IAM OIDC identity provider %s (provider URL %s) with %s in its audiences (client IDs), "+
			"and STS must be able to fetch the issuer's keys from the internet; the `audience` setting chooses the token's aud.",
			account, provider, quoteValue("https://"+path), quoteValue(aud))
	}
	switch c.IssuedBy() {
	case "Forgejo Actions":
		fix.WriteString(" Forgejo gives repositories created since its immutable identifiers a `sub` with ids (repo:<owner>-<id>/<repo>-<id>:...), older ones repo:<owner>/<repo>:...: match the form this token has.")
	case "GitHub Actions", "GitHub Enterprise Server":
		if c.JobWorkflowRef != "" {
			fix.WriteString(" To trust a reusable workflow by its job_workflow_ref, customise the repository's OIDC subject claim to include it, and match the new `sub`.")
		}
	}
	p.Fix = fix.String()
}

func roleName(role inputs.RoleARN) string {
	if role.ARN == "" {
		return "the role"
	}
	return role.ARN
}

// subjectWildcard suggests a StringLike pattern for a GitHub- or
// Forgejo-style subject (repo:<owner>/<repo>:...): every ref of the
// repository. "" for other forms.
func subjectWildcard(sub string) string {
	rest, ok := strings.CutPrefix(sub, "repo:")
	if !ok {
		return ""
	}
	repo, _, ok := strings.Cut(rest, ":")
	if !ok || repo == "" {
		return ""
	}
	return "repo:" + repo + ":*"
}
