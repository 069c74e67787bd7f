package awsfake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

func TestAssumeRoleWithWebIdentitySucceeds(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"repo:octo-org/*"}, MaxSessionDuration: 2 * time.Hour, ECR: true})
	tok, err := s.MintIDToken("sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsClient(t, s, nil).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(testRoleARN),
		RoleSessionName:  aws.String("gha-9876543210"),
		WebIdentityToken: aws.String(tok),
		DurationSeconds:  aws.Int32(7200),
		Policy:           aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	c := out.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || len(*c.AccessKeyId) != 20 {
		t.Errorf("AccessKeyId %q is not an ASIA... temporary key id", *c.AccessKeyId)
	}
	if len(*c.SecretAccessKey) != 40 || len(*c.SessionToken) < 400 {
		t.Errorf("secret (%d chars) or session token (%d chars) has an unrealistic size", len(*c.SecretAccessKey), len(*c.SessionToken))
	}
	wantExp := clock.Now().Add(2 * time.Hour)
	if d := c.Expiration.Sub(wantExp); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("Expiration %v, want about %v (emulator clock + DurationSeconds)", c.Expiration, wantExp)
	}
	if got, want := *out.AssumedRoleUser.Arn, "arn:aws:sts::123456789012:assumed-role/ci-ecr/gha-9876543210"; got != want {
		t.Errorf("AssumedRoleUser.Arn = %q, want %q", got, want)
	}
	if id := *out.AssumedRoleUser.AssumedRoleId; !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":gha-9876543210") {
		t.Errorf("AssumedRoleId = %q, want AROA...:gha-9876543210", id)
	}
	if got := aws.ToString(out.SubjectFromWebIdentityToken); got != DefaultSubject {
		t.Errorf("SubjectFromWebIdentityToken = %q, want %q", got, DefaultSubject)
	}
	if got := aws.ToString(out.Audience); got != "sts.amazonaws.com" {
		t.Errorf("Audience = %q", got)
	}
	if got, want := aws.ToString(out.Provider), strings.TrimPrefix(s.IssuerURL(), "http://"); got != want {
		t.Errorf("Provider = %q, want %q", got, want)
	}
	//lint:ignore SA1019 STS still sends PackedPolicySize, and the emulator answers as STS does
	if out.PackedPolicySize == nil {
		t.Errorf("PackedPolicySize missing although a session policy was passed")
	}
	issued := strings.Join(s.Issued(), "\n")
	for name, secret := range map[string]string{"JWT": tok, "secret key": *c.SecretAccessKey, "session token": *c.SessionToken} {
		if !strings.Contains(issued, secret) {
			t.Errorf("Issued() lacks the %s", name)
		}
	}
	calls := s.Calls()
	if len(calls) != 1 || calls[0].Service != "sts" || calls[0].Operation != "AssumeRoleWithWebIdentity" || calls[0].Status != 200 || calls[0].AccessKeyID != "" {
		t.Errorf("Calls() = %+v, want one unsigned sts AssumeRoleWithWebIdentity with status 200", calls)
	}
}

func TestAssumeRoleWithWebIdentityRejections(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	mustAddRole(t, s, Role{ARN: testRoleARN, Subjects: []string{"repo:octo-org/octo-repo:ref:refs/heads/*"}})
	mustAddRole(t, s, Role{ARN: "arn:aws:iam::123456789012:role/custom-aud", Subjects: []string{"*"}, Audience: "my-audience"})
	future := clock.Now().Add(time.Hour)

	cases := []struct {
		name       string
		role       string
		session    string
		duration   int32
		policy     string
		audience   string
		opts       []TokenOption
		rawToken   string
		fault      *Fault
		wantCode   string
		wantStatus int
	}{
		{name: "expired token", opts: []TokenOption{Expired()}, wantCode: "ExpiredTokenException", wantStatus: 400},
		{name: "unknown issuer", opts: []TokenOption{WithIssuer("https://token.actions.githubusercontent.com")}, wantCode: "InvalidIdentityToken", wantStatus: 400},
		{name: "bad signature", opts: []TokenOption{WithWrongKey()}, wantCode: "InvalidIdentityToken", wantStatus: 400},
		{name: "not yet valid", opts: []TokenOption{WithIssuedAt(future)}, wantCode: "InvalidIdentityToken", wantStatus: 400},
		{name: "not a JWT", rawToken: "not-a-jwt-at-all", wantCode: "InvalidIdentityToken", wantStatus: 400},
		{name: "wrong audience", audience: "sigstore", wantCode: "InvalidIdentityToken", wantStatus: 400},
		{name: "audience of another role", role: "arn:aws:iam::123456789012:role/custom-aud", wantCode: "InvalidIdentityToken", wantStatus: 400},
		{name: "subject not trusted", opts: []TokenOption{WithSubject("repo:evil-org/octo-repo:ref:refs/heads/main")}, wantCode: "AccessDenied", wantStatus: 403},
		{name: "pull request subject", opts: []TokenOption{WithSubject("repo:octo-org/octo-repo:pull_request")}, wantCode: "AccessDenied", wantStatus: 403},
		{name: "unknown role", role: "arn:aws:iam::123456789012:role/nope", wantCode: "AccessDenied", wantStatus: 403},
		{name: "session name too short", session: "a", wantCode: "ValidationError", wantStatus: 400},
		{name: "session name with space", session: "bad name", wantCode: "ValidationError", wantStatus: 400},
		{name: "duration below 900s", duration: 600, wantCode: "ValidationError", wantStatus: 400},
		{name: "duration above role maximum", duration: 7200, wantCode: "ValidationError", wantStatus: 400},
		{name: "malformed session policy", policy: "{not json", wantCode: "MalformedPolicyDocument", wantStatus: 400},
		{name: "identity provider unreachable", fault: &Fault{Service: "sts", Kind: FaultError, Code: "IDPCommunicationError", Message: "Couldn't retrieve verification key from your identity provider"}, wantCode: "IDPCommunicationError", wantStatus: 400},
	}
	client := stsClient(t, s, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aud := tc.audience
			if aud == "" {
				aud = "sts.amazonaws.com"
			}
			tok := tc.rawToken
			if tok == "" {
				var err error
				if tok, err = s.MintIDToken(aud, tc.opts...); err != nil {
					t.Fatal(err)
				}
			}
			in := &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("ci-session"), WebIdentityToken: aws.String(tok),
			}
			if tc.role != "" {
				in.RoleArn = aws.String(tc.role)
			}
			if tc.session != "" {
				in.RoleSessionName = aws.String(tc.session)
			}
			if tc.duration != 0 {
				in.DurationSeconds = aws.Int32(tc.duration)
			}
			if tc.policy != "" {
				in.Policy = aws.String(tc.policy)
			}
			if tc.fault != nil {
				s.Inject(*tc.fault)
			}
			_, err := client.AssumeRoleWithWebIdentity(context.Background(), in)
			wantAPIError(t, err, tc.wantCode, tc.wantStatus)
			assertNoSecrets(t, s, "error message", err.Error())
		})
	}
	// The modeled STS errors come back as the SDK's typed errors.
	tok, _ := s.MintIDToken("sts.amazonaws.com", Expired())
	_, err := client.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("x1"), WebIdentityToken: aws.String(tok),
	})
	var expired *types.ExpiredTokenException
	if !errorsAs(err, &expired) || !strings.Contains(expired.ErrorMessage(), "Token expired") {
		t.Errorf("expired token: got %v, want *types.ExpiredTokenException with a message", err)
	}
}

func TestAssumeRoleChainingAndCallerIdentity(t *testing.T) {
	clock := &fakeClock{}
	s := startServer(t, Options{Now: clock.Now})
	user, err := s.AddAccessKey(AccessKey{UserARN: testUserARN})
	if err != nil {
		t.Fatal(err)
	}
	roleA := "arn:aws:iam::123456789012:role/stage-a"
	roleB := "arn:aws:iam::210987654321:role/stage-b"
	mustAddRole(t, s, Role{ARN: roleA, TrustedPrincipals: []string{testUserARN}, MaxSessionDuration: 4 * time.Hour})
	mustAddRole(t, s, Role{ARN: roleB, TrustedPrincipals: []string{"arn:aws:iam::123456789012:root"}, ExternalID: "ext-123", MaxSessionDuration: 4 * time.Hour, ECR: true})
	mustAddRole(t, s, Role{ARN: "arn:aws:iam::123456789012:role/closed", TrustedPrincipals: []string{roleB}})
	ctx := context.Background()

	userSTS := stsClient(t, s, staticCreds(user.ID, user.Secret, ""))
	id, err := userSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity as user: %v", err)
	}
	if *id.Arn != testUserARN || *id.Account != testAccount || !strings.HasPrefix(*id.UserId, "AIDA") {
		t.Errorf("GetCallerIdentity = %s %s %s", *id.Arn, *id.Account, *id.UserId)
	}

	outA, err := userSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleA), RoleSessionName: aws.String("step1"), DurationSeconds: aws.Int32(3 * 3600)})
	if err != nil {
		t.Fatalf("user AssumeRole stage-a for 3h: %v", err)
	}
	credsA := staticCreds(*outA.Credentials.AccessKeyId, *outA.Credentials.SecretAccessKey, *outA.Credentials.SessionToken)
	stsA := stsClient(t, s, credsA)

	cases := []struct {
		name                 string
		in                   *sts.AssumeRoleInput
		wantCode             string
		wantStatus           int
		wantArn, wantSrcIdnt string
	}{
		{name: "chained with external id, tags and source identity",
			in: &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("step2"), ExternalId: aws.String("ext-123"),
				SourceIdentity: aws.String("octocat"), Tags: []types.Tag{{Key: aws.String("repo"), Value: aws.String("octo-repo")}}},
			wantArn: "arn:aws:sts::210987654321:assumed-role/stage-b/step2", wantSrcIdnt: "octocat"},
		{name: "missing external id", in: &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("step2")}, wantCode: "AccessDenied", wantStatus: 403},
		{name: "wrong external id", in: &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("step2"), ExternalId: aws.String("ext-999")}, wantCode: "AccessDenied", wantStatus: 403},
		{name: "role chaining beyond one hour", in: &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("step2"), ExternalId: aws.String("ext-123"), DurationSeconds: aws.Int32(7200)}, wantCode: "ValidationError", wantStatus: 400},
		{name: "untrusted principal", in: &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/closed"), RoleSessionName: aws.String("step2")}, wantCode: "AccessDenied", wantStatus: 403},
		{name: "bad source identity", in: &sts.AssumeRoleInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("step2"), ExternalId: aws.String("ext-123"), SourceIdentity: aws.String("no spaces allowed")}, wantCode: "ValidationError", wantStatus: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := stsA.AssumeRole(ctx, tc.in)
			if tc.wantCode != "" {
				wantAPIError(t, err, tc.wantCode, tc.wantStatus)
				return
			}
			if err != nil {
				t.Fatalf("AssumeRole: %v", err)
			}
			if *out.AssumedRoleUser.Arn != tc.wantArn || aws.ToString(out.SourceIdentity) != tc.wantSrcIdnt {
				t.Errorf("AssumedRoleUser.Arn %q SourceIdentity %q, want %q %q", *out.AssumedRoleUser.Arn, aws.ToString(out.SourceIdentity), tc.wantArn, tc.wantSrcIdnt)
			}
			// The chained session works for GetCallerIdentity and ECR.
			chained := staticCreds(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
			id, err := stsClient(t, s, chained).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil || *id.Arn != tc.wantArn || *id.Account != "210987654321" {
				t.Fatalf("GetCallerIdentity of chained session = %+v, %v", id, err)
			}
			tokOut, err := ecrClient(t, s, "eu-central-1", chained).GetAuthorizationToken(ctx, nil)
			if err != nil {
				t.Fatalf("GetAuthorizationToken with chained session: %v", err)
			}
			if got, want := *tokOut.AuthorizationData[0].ProxyEndpoint, "https://210987654321.dkr.ecr.eu-central-1.amazonaws.com"; got != want {
				t.Errorf("proxyEndpoint %q, want %q", got, want)
			}
		})
	}

	// Signed-call failures in STS's own shapes.
	authCases := []struct {
		name       string
		creds      aws.CredentialsProvider
		wantCode   string
		wantStatus int
	}{
		{"unsigned", nil, "MissingAuthenticationToken", 403},
		{"unknown key", staticCreds("AKIAUNKNOWNUNKNOWN00", user.Secret, ""), "InvalidClientTokenId", 403},
		{"wrong secret", staticCreds(user.ID, strings.Repeat("x", 40), ""), "SignatureDoesNotMatch", 403},
		{"session token from another session", staticCreds(*outA.Credentials.AccessKeyId, *outA.Credentials.SecretAccessKey, "IQoJforged"), "InvalidClientTokenId", 403},
	}
	for _, tc := range authCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stsClient(t, s, tc.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, tc.wantCode, tc.wantStatus)
		})
	}
	t.Run("expired session", func(t *testing.T) {
		// Moving the emulator clock past the session's end also skews it
		// against the client: the first attempt fails on the signature date,
		// the SDK corrects the skew from the Date header and the retry
		// reaches the expiry check.
		clock.Advance(3*time.Hour + time.Minute)
		before := len(s.Calls())
		client := newSTS(clientConfig(t, s, "us-east-1", credsA, 3), s)
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "ExpiredToken", 403)
		var codes []string
		for _, c := range s.Calls()[before:] {
			codes = append(codes, c.ErrorCode)
		}
		if strings.Join(codes, ",") != "SignatureDoesNotMatch,ExpiredToken" {
			t.Errorf("attempts answered %v, want a skew rejection then ExpiredToken", codes)
		}
	})
}

func TestSTSUnknownAction(t *testing.T) {
	s := startServer(t, Options{})
	user, _ := s.AddAccessKey(AccessKey{UserARN: testUserARN})
	_, err := stsClient(t, s, staticCreds(user.ID, user.Secret, "")).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	wantAPIError(t, err, "InvalidAction", 400)
}

// TestAssumeRoleTagsAndPolicyARNs: the emulator records session tags and
// managed session policies, and rejects what STS rejects.
func TestAssumeRoleTagsAndPolicyARNs(t *testing.T) {
	s := startServer(t, Options{})
	user, err := s.AddAccessKey(AccessKey{UserARN: testUserARN})
	if err != nil {
		t.Fatal(err)
	}
	role := "arn:aws:iam::123456789012:role/tagged"
	mustAddRole(t, s, Role{ARN: role, TrustedPrincipals: []string{testUserARN}, MaxSessionDuration: time.Hour, ECR: true})
	client := stsClient(t, s, staticCreds(user.ID, user.Secret, ""))
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	arns := func(list ...string) []types.PolicyDescriptorType {
		var out []types.PolicyDescriptorType
		for _, a := range list {
			out = append(out, types.PolicyDescriptorType{Arn: aws.String(a)})
		}
		return out
	}
	const readOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	var eleven []string
	for i := 0; i < 11; i++ {
		eleven = append(eleven, readOnly)
	}
	cases := []struct {
		name     string
		tags     []types.Tag
		policies []types.PolicyDescriptorType
		wantCode string
	}{
		{name: "tags and policies", tags: []types.Tag{tag("GitHub", "Actions"), tag("Repository", "octo-org/octo-repo"), tag("Branch", "refs/heads/main")},
			policies: arns(readOnly, "arn:aws:iam::123456789012:policy/team/ecr-push")},
		{name: "duplicate keys in another case", tags: []types.Tag{tag("Actor", "a"), tag("actor", "b")}, wantCode: "InvalidParameterValue"},
		{name: "tag value with a character STS refuses", tags: []types.Tag{tag("Workflow", "build & push")}, wantCode: "ValidationError"},
		{name: "tag key too long", tags: []types.Tag{tag(strings.Repeat("k", 129), "v")}, wantCode: "ValidationError"},
		{name: "eleven policies", policies: arns(eleven...), wantCode: "ValidationError"},
		{name: "policy ARN that is no policy", policies: arns("arn:aws:iam::123456789012:role/tagged"), wantCode: "InvalidParameterValue"},
		{name: "packed size over the limit", tags: []types.Tag{tag("A", strings.Repeat("v", 256)), tag("B", strings.Repeat("v", 256)), tag("C", strings.Repeat("v", 256)),
			tag("D", strings.Repeat("v", 256)), tag("E", strings.Repeat("v", 256)), tag("F", strings.Repeat("v", 256)), tag("G", strings.Repeat("v", 256)),
			tag("H", strings.Repeat("v", 256)), tag("I", strings.Repeat("v", 256))}, wantCode: "PackedPolicyTooLarge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Calls())
			_, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("tags"), Tags: tc.tags, PolicyArns: tc.policies})
			if tc.wantCode != "" {
				wantAPIError(t, err, tc.wantCode, 400)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			calls := s.Calls()[before:]
			if len(calls) != 1 {
				t.Fatalf("%d calls logged", len(calls))
			}
			if got := strings.Join(calls[0].Tags, ","); got != "GitHub=Actions,Repository=octo-org/octo-repo,Branch=refs/heads/main" {
				t.Errorf("logged tags %s", got)
			}
			if got := strings.Join(calls[0].PolicyARNs, ","); got != readOnly+",arn:aws:iam::123456789012:policy/team/ecr-push" {
				t.Errorf("logged policy ARNs %s", got)
			}
		})
	}
}
