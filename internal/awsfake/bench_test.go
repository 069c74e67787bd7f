package awsfake

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// BenchmarkGetAuthorizationToken measures one SDK round trip through SigV4
// verification and token minting (reports ns/op; no assertion on speed).
func BenchmarkGetAuthorizationToken(b *testing.B) {
	s := startServer(b, Options{})
	user, err := s.AddAccessKey(AccessKey{UserARN: testUserARN, ECR: true})
	if err != nil {
		b.Fatal(err)
	}
	client := ecrClient(b, s, "us-east-1", staticCreds(user.ID, user.Secret, ""))
	b.ResetTimer()
	for b.Loop() {
		if _, err := client.GetAuthorizationToken(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssumeRoleWithWebIdentity measures minting a token plus one SDK
// round trip through JWT verification and the STS XML response.
func BenchmarkAssumeRoleWithWebIdentity(b *testing.B) {
	s := startServer(b, Options{})
	if err := s.AddRole(Role{ARN: testRoleARN, Subjects: []string{"*"}}); err != nil {
		b.Fatal(err)
	}
	client := stsClient(b, s, nil)
	b.ResetTimer()
	for b.Loop() {
		tok, err := s.MintIDToken("sts.amazonaws.com")
		if err != nil {
			b.Fatal(err)
		}
		_, err = client.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("bench"), WebIdentityToken: aws.String(tok)})
		if err != nil {
			b.Fatal(err)
		}
	}
}
