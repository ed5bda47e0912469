//! `lxc config trust list|add|remove|show|edit|list-tokens|revoke-token`: the server's trust
//! store through `/1.0/certificates`, and join tokens (token operations), with lxc 5.0.2's
//! output: the table of certificates with their common name and validity dates, tokens
//! printed as base64 JSON, YAML as yaml.v2 marshals `api.Certificate`.

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use lxd_api::certificate::{Certificate, CertificatePut, CertificatesPost};
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::output::{render_table, sort_by_name, sort_string_list};
use crate::trust_cert::{read_cert_file, CertSummary};

/// Manage trusted clients
#[derive(Debug, Args)]
pub struct TrustCmd {
    #[command(subcommand)]
    cmd: Option<TrustSub>,
}

/// Sub-commands of `lxc config trust`.
#[derive(Debug, Subcommand)]
enum TrustSub {
    /// Add new trusted client
    Add {
        args: Vec<String>,
        /// Restrict the certificate to one or more projects
        #[arg(long)]
        restricted: bool,
        /// List of projects to restrict the certificate to
        #[arg(long, value_name = "")]
        projects: Option<String>,
        /// Alternative certificate name
        #[arg(long, value_name = "")]
        name: Option<String>,
        /// Type of certificate
        #[arg(long = "type", default_value = "client", value_name = "")]
        kind: String,
    },
    /// Edit trust configurations as YAML
    Edit { args: Vec<String> },
    /// List trusted clients
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// List all active certificate add tokens
    ListTokens {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Remove trusted client
    #[command(visible_alias = "rm")]
    Remove { args: Vec<String> },
    /// Revoke certificate add token
    RevokeToken { args: Vec<String> },
    /// Show trust configurations
    Show { args: Vec<String> },
}

const EDIT_HELP: &str = "### This is a YAML representation of the certificate.
### Any line starting with a '# will be ignored.
###
### Note that the fingerprint is shown but cannot be changed";

/// `api.CertificatePut` for the Go-like YAML decoder.
const CERTIFICATE_PUT: crate::go_yaml::Schema = crate::go_yaml::Schema::Struct(
    "api.CertificatePut",
    &[
        ("name", crate::go_yaml::Schema::Str),
        ("type", crate::go_yaml::Schema::Str),
        ("restricted", crate::go_yaml::Schema::Any),
        ("projects", crate::go_yaml::Schema::Any),
        ("certificate", crate::go_yaml::Schema::Str),
    ],
);

/// The certificate as yaml.v2 marshals `api.Certificate` (nil projects as `[]`).
fn certificate_value(c: &Certificate) -> Value {
    json!({
        "name": c.put.name,
        "type": c.put.kind,
        "restricted": c.put.restricted,
        "projects": c.put.projects.clone().unwrap_or_default(),
        "certificate": c.put.certificate,
        "fingerprint": c.fingerprint,
    })
}

fn decode_put(text: &str) -> Result<CertificatePut> {
    if text.trim().is_empty() {
        return Ok(CertificatePut::default());
    }
    crate::editor::decode_yaml(text, CERTIFICATE_PUT)
}

/// lxc's `AskString` with no default: asks until a non-empty line is given.
fn ask_string(question: &str) -> Result<String> {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    loop {
        print!("{question}");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            bail!("EOF");
        }
        let answer = line.trim_end_matches(['\n', '\r']).trim();
        if !answer.is_empty() {
            return Ok(answer.to_string());
        }
        eprintln!("Invalid input, try again.\n");
    }
}

impl TrustCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["config", "trust"]);
            return Ok(());
        };
        match cmd {
            TrustSub::Add {
                args,
                restricted,
                projects,
                name,
                kind,
            } => add(&ctx, args, restricted, projects, name, kind).await,
            TrustSub::Edit { args } => edit(&ctx, args).await,
            TrustSub::List { args, format } => list(&ctx, args, &format).await,
            TrustSub::ListTokens { args, format } => list_tokens(&ctx, args, &format).await,
            TrustSub::Remove { args } => {
                if check_args(&["config", "trust", "remove"], &args, 1, Some(2))? {
                    return Ok(());
                }
                let (client, name) = ctx.resource(&args[0]).await?;
                let fingerprint = args.get(1).cloned().unwrap_or(name);
                client.delete_certificate(&fingerprint).await?;
                Ok(())
            }
            TrustSub::RevokeToken { args } => revoke_token(&ctx, args).await,
            TrustSub::Show { args } => {
                if check_args(&["config", "trust", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = ctx.resource(&args[0]).await?;
                if name.is_empty() {
                    bail!("Missing certificate fingerprint");
                }
                let (cert, _) = client.get_certificate(&name).await?;
                print!("{}", crate::yaml::to_yaml(&certificate_value(&cert)));
                Ok(())
            }
        }
    }
}

async fn add(
    ctx: &Ctx,
    args: Vec<String>,
    restricted: bool,
    projects: Option<String>,
    name: Option<String>,
    kind: String,
) -> Result<()> {
    if check_args(&["config", "trust", "add"], &args, 0, Some(2))? && !args.is_empty() {
        return Ok(());
    }
    if kind != "client" && kind != "metrics" {
        bail!("Unknown certificate type {kind:?}");
    }
    let remote = args.first().map(String::as_str).unwrap_or("");
    let (client, _) = ctx.resource(remote).await?;
    if kind == "metrics" {
        let (server, _) = client.get_server().await?;
        if !server
            .untrusted
            .api_extensions
            .iter()
            .any(|e| e == "metrics")
        {
            bail!("The server doesn't implement metrics");
        }
    }
    let mut cert = CertificatesPost::default();
    if args.is_empty() {
        cert.token = true;
        cert.put.name = match name.filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => ask_string("Please provide client name: ")?,
        };
    } else {
        let path = &args[args.len() - 1];
        let path = if path == "-" { "/dev/stdin" } else { path };
        let der = read_cert_file(path)?;
        cert.put.certificate = crate::trust_cert::base64_encode(&der);
        cert.put.name = match name.filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => std::path::Path::new(path)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
    }
    if kind == "metrics" && cert.token {
        bail!("Cannot use metrics type certificate when using a token");
    }
    cert.put.kind = kind;
    cert.put.restricted = restricted;
    if let Some(p) = projects.filter(|p| !p.is_empty()) {
        cert.put.projects = Some(p.split(',').map(String::from).collect());
    }
    if !cert.token {
        client.create_certificate(&cert).await?;
        return Ok(());
    }
    let op = client.create_certificate_token(&cert).await?;
    let token = crate::trust_cert::token_from_operation(&op)
        .map_err(|e| anyhow!("Failed converting token operation to certificate add token: {e}"))?;
    if !ctx.flags.quiet {
        println!("Client {} certificate add token:", cert.put.name);
    }
    println!("{}", crate::trust_cert::encode_token(&token));
    Ok(())
}

async fn edit(ctx: &Ctx, args: Vec<String>) -> Result<()> {
    if check_args(&["config", "trust", "edit"], &args, 1, Some(1))? {
        return Ok(());
    }
    let (client, name) = ctx.resource(&args[0]).await?;
    if name.is_empty() {
        bail!("Missing certificate fingerprint");
    }
    if !crate::editor::stdin_is_terminal() {
        let put = decode_put(&crate::editor::read_stdin()?)?;
        client.update_certificate(&name, &put, "").await?;
        return Ok(());
    }
    let (cert, etag) = client.get_certificate(&name).await?;
    let yaml = crate::yaml::to_yaml(&certificate_value(&cert));
    crate::editor::edit_loop(EDIT_HELP, &yaml, |text| {
        let (client, name, etag) = (client.clone(), name.clone(), etag.clone());
        async move {
            let put = decode_put(&text)?;
            client
                .update_certificate(&name, &put, &etag)
                .await
                .map_err(|e| anyhow!(e))
        }
    })
    .await
}

async fn list(ctx: &Ctx, args: Vec<String>, format: &str) -> Result<()> {
    if check_args(&["config", "trust", "list"], &args, 0, Some(1))? && !args.is_empty() {
        return Ok(());
    }
    let remote = args.first().map(String::as_str).unwrap_or("");
    let (client, _) = ctx.resource(remote).await?;
    let certs = client.get_certificates().await?;
    let mut rows = Vec::new();
    for cert in &certs {
        let summary = CertSummary::from_pem(&cert.put.certificate)?;
        rows.push(vec![
            cert.put.kind.clone(),
            cert.put.name.clone(),
            summary.common_name,
            cert.fingerprint.chars().take(12).collect(),
            summary.issued,
            summary.expires,
        ]);
    }
    sort_string_list(&mut rows);
    let raw = Value::Array(certs.iter().map(certificate_value).collect());
    render_table(
        format,
        &[
            "TYPE",
            "NAME",
            "COMMON NAME",
            "FINGERPRINT",
            "ISSUE DATE",
            "EXPIRY DATE",
        ],
        &rows,
        &raw,
    )
}

async fn list_tokens(ctx: &Ctx, args: Vec<String>, format: &str) -> Result<()> {
    if check_args(&["config", "trust", "list-tokens"], &args, 0, Some(1))? && !args.is_empty() {
        return Ok(());
    }
    let remote = args.first().map(String::as_str).unwrap_or("");
    let (client, _) = ctx.resource(remote).await?;
    let ops = client.with_project("default").get_operations().await?;
    let mut shown = Vec::new();
    for op in ops.values().flatten() {
        if op.class != "token" || op.status_code != lxd_api::StatusCode::Running.code() {
            continue;
        }
        let Ok(token) = crate::trust_cert::token_from_operation(op) else {
            continue;
        };
        let expires = crate::trust_cert::token_expiry_text(&token.expires_at);
        shown.push((
            token.client_name.clone(),
            crate::trust_cert::encode_token(&token),
            expires,
        ));
    }
    let mut rows: Vec<Vec<String>> = shown
        .iter()
        .map(|(n, t, e)| vec![n.clone(), t.clone(), e.clone()])
        .collect();
    sort_by_name(&mut rows);
    // The JSON and YAML forms marshal lxc's untagged `displayToken` struct.
    let raw = if format == "yaml" {
        Value::Array(
            shown
                .iter()
                .map(|(n, t, e)| json!({"clientname": n, "token": t, "expiresat": e}))
                .collect(),
        )
    } else {
        Value::Array(
            shown
                .iter()
                .map(|(n, t, e)| json!({"ClientName": n, "Token": t, "ExpiresAt": e}))
                .collect(),
        )
    };
    render_table(format, &["NAME", "TOKEN", "EXPIRES AT"], &rows, &raw)
}

async fn revoke_token(ctx: &Ctx, args: Vec<String>) -> Result<()> {
    if check_args(&["config", "trust", "revoke-token"], &args, 1, Some(1))? {
        return Ok(());
    }
    let (remote, name) = ctx.conf.parse_remote(&args[0])?;
    let client = ctx.connect(&remote).await?.with_project("default");
    let ops = client.get_operations().await?;
    for op in ops.values().flatten() {
        if op.class != "token" || op.status_code != lxd_api::StatusCode::Running.code() {
            continue;
        }
        let Ok(token) = crate::trust_cert::token_from_operation(op) else {
            continue;
        };
        if token.client_name == name {
            client.delete_operation(&op.id).await?;
            if !ctx.flags.quiet {
                println!("Certificate add token for {name} deleted");
            }
            return Ok(());
        }
    }
    bail!("No certificate add token for member {name} on remote: {remote}")
}
