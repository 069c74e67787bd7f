package awsfake_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecr-credentials/ecr-credentials/internal/testing/awsfake"
)

// A test sets up a role, points the SDK at the emulator and runs the same
// code it runs against AWS.
func Example() {
	s := awsfake.New(awsfake.Options{})
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.AddRole(awsfake.Role{
		ARN:      "arn:aws:iam::123456789012:role/ci",
		Subjects: []string{"repo:octo-org/octo-repo:*"},
		ECR:      true,
	}); err != nil {
		log.Fatal(err)
	}
	s.MapRegistry("123456789012", "eu-west-1", "https://127.0.0.1:5443")

	// A child process would get s.Env() instead (it includes
	// AWS_ENDPOINT_URL_STS: the SDK's default credential chain needs it).
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		log.Fatal(err)
	}
	jwt, _ := s.MintIDToken("sts.amazonaws.com")
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL()) }).
		AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String("arn:aws:iam::123456789012:role/ci"), RoleSessionName: aws.String("ci"),
			WebIdentityToken: aws.String(jwt),
		})
	if err != nil {
		log.Fatal(err)
	}
	c := out.Credentials
	cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, nil
	}))
	tok, err := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(s.URL()) }).
		GetAuthorizationToken(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(*tok.AuthorizationData[0].ProxyEndpoint) // https://127.0.0.1:5443
}

// An EC2 instance: the SDK's IMDS client (or a child process given
// IMDSEnv) reads the region and the instance role's credentials from the
// plain-HTTP metadata endpoint.
func ExampleServer_SetInstanceRole() {
	s := awsfake.New(awsfake.Options{})
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.AddRole(awsfake.Role{ARN: "arn:aws:iam::123456789012:role/builder", ECR: true}); err != nil {
		log.Fatal(err)
	}
	if err := s.SetInstanceRole("arn:aws:iam::123456789012:role/builder", "eu-west-1"); err != nil {
		log.Fatal(err)
	}

	client := imds.New(imds.Options{Endpoint: s.IMDSEndpoint(), ClientEnableState: imds.ClientEnabled})
	region, err := client.GetRegion(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	creds, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client }).Retrieve(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(region.Region, creds.AccessKeyID[:4])
	// Output: eu-west-1 ASIA
}
