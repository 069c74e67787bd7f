package awsfake

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
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

// BenchmarkIMDSCredentials measures what an SDK on an instance does at
// start-up: an IMDSv2 session token, the role name and the credentials
// (three requests over plain HTTP; reports ns/op).
func BenchmarkIMDSCredentials(b *testing.B) {
	s := startServer(b, Options{})
	if err := s.AddRole(Role{ARN: testRoleARN, ECR: true}); err != nil {
		b.Fatal(err)
	}
	if err := s.SetInstanceRole(testRoleARN, "us-east-1"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		client := imds.New(imds.Options{Endpoint: s.IMDSEndpoint(), ClientEnableState: imds.ClientEnabled})
		if _, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client }).Retrieve(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
