"""The three stacks: data (table, secrets), api (functions, URL, HTTP API), web (S3, CloudFront)."""
