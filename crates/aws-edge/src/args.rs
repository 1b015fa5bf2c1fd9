//! clap value parsers for the arguments every tool takes. Each returns the text unchanged
//! when it has the right shape, else a message that says what was expected and repeats
//! what was given; clap prefixes the flag's name and exits 2.
//!
//! [`AwsArgs`] and [`StackArgs`] are the flags themselves, for a tool's clap struct to
//! `#[command(flatten)]`.
//!
//! The checks are by shape only: whether a region exists or an endpoint answers is the
//! SDK's to find out, but a value that cannot be right should not reach it (the SDK would
//! fail later with a message about endpoint parameters or a whole request dump).

/// Where to reach AWS: `--endpoint-url` and `--region`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct AwsArgs {
    /// Another endpoint than AWS's, e.g. moto's: http://127.0.0.1:5000 (default:
    /// AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL", value_parser = endpoint_url)]
    pub endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_parser = region)]
    pub region: Option<String>,
}

/// A deployed stack and where to reach it: `--stack-name`, `--endpoint-url`, `--region`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct StackArgs {
    /// The pipeline's CloudFormation stack, e.g. retail-events-dev.
    #[arg(long, value_name = "NAME", value_parser = stack_name)]
    pub stack_name: String,

    /// Where to reach AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `--region`: lowercase words and a number joined by hyphens, such as `us-east-1`,
/// `ap-southeast-2` or `us-gov-west-1`.
pub fn region(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let (number, words) = parts.split_last().unwrap_or((&"", &[]));
    let shaped = words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit());
    if shaped {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "must be an AWS region such as us-east-1, got {text:?}"
        ))
    }
}

/// `--endpoint-url`: an `http://` or `https://` URL with a host and no whitespace, such as
/// `http://127.0.0.1:5000`.
pub fn endpoint_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !host.contains(char::is_whitespace) =>
        {
            Ok(text.to_owned())
        }
        _ => Err(format!(
            "must be an http:// or https:// URL such as http://127.0.0.1:5000, got {text:?}"
        )),
    }
}

/// `--stack-name`: a CloudFormation stack name (a letter, then letters, digits and hyphens,
/// at most 128 characters) or a stack ARN.
pub fn stack_name(text: &str) -> Result<String, String> {
    let name_ok = text.len() <= 128
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if name_ok || text.starts_with("arn:") {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "must be a stack name (a letter, then letters, digits and hyphens, at most 128) \
             or a stack ARN, got {text:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Tool {
        #[command(flatten)]
        stack: StackArgs,
    }

    #[test]
    fn the_flattened_flags_are_checked_and_named() {
        let tool = Tool::try_parse_from([
            "tool",
            "--stack-name",
            "s",
            "--endpoint-url",
            "http://127.0.0.1:5000",
            "--region",
            "eu-west-1",
        ])
        .unwrap();
        assert_eq!(tool.stack.stack_name, "s");
        assert_eq!(tool.stack.aws.region.as_deref(), Some("eu-west-1"));
        let err =
            Tool::try_parse_from(["tool", "--stack-name", "s", "--region", "moon"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--region"), "{err}");
        assert!(Tool::try_parse_from(["tool"]).is_err());
    }

    #[test]
    fn regions_are_checked_by_shape() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert_eq!(region(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "not a region",
            "us-east",
            "us-east-",
            "US-EAST-1",
            "east-1",
            "us--1",
            "-us-1",
        ] {
            assert_eq!(
                region(bad),
                Err(format!(
                    "must be an AWS region such as us-east-1, got {bad:?}"
                )),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn endpoints_need_a_scheme_and_a_host() {
        for good in [
            "http://127.0.0.1:5000",
            "https://kinesis.example.test",
            "http://[::1]:80",
        ] {
            assert_eq!(endpoint_url(good).as_deref(), Ok(good));
        }
        for bad in [
            "127.0.0.1:5000",
            "localhost",
            "http://",
            "https:///x",
            "ftp://h",
            "http://a b",
        ] {
            let err = endpoint_url(bad).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "must be an http:// or https:// URL such as http://127.0.0.1:5000, got {bad:?}"
                )
            );
        }
    }

    #[test]
    fn stack_names_and_arns() {
        assert!(stack_name("retail-events-dev").is_ok());
        assert!(stack_name("arn:aws:cloudformation:us-east-1:123456789012:stack/s/id").is_ok());
        assert!(stack_name(&"a".repeat(128)).is_ok());
        for bad in ["", "1stack", "my_stack", "a b", &"a".repeat(129)] {
            assert!(
                stack_name(bad)
                    .unwrap_err()
                    .ends_with(&format!("got {bad:?}")),
                "{bad:?}"
            );
        }
    }
}
