//! `lxd-simplestreams`: maintain a static simplestreams tree (`streams/v1/index.json`,
//! `streams/v1/images.json`, `images/`) that any web server can serve as an LXD image remote
//! (`lxc remote add NAME https://host/path --protocol simplestreams`). Modelled on Incus's
//! `incus-simplestreams`: `add`, `list`, `remove`, `generate-metadata`. The file work lives in
//! `lxd_image::sstree`; this binary only parses arguments and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use lxd_image::sstree::{add_image, generate_metadata, AddOptions, MetadataOptions, Tree};

#[derive(Parser)]
#[command(
    name = "lxd-simplestreams",
    version,
    about = "Maintain a static simplestreams image server tree"
)]
struct Cli {
    /// The tree's root directory
    #[arg(short = 'd', long = "dir", global = true, default_value = ".")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add an image: a unified tarball, or a metadata tarball and its rootfs (squashfs or
    /// tarball), as `lxc image export` writes them
    #[command(visible_alias = "import")]
    Add(AddArgs),
    /// List the images the tree serves
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Remove an image (by fingerprint or a unique prefix) and the files nothing else uses
    #[command(visible_aliases = ["rm", "delete"])]
    Remove(RemoveArgs),
    /// Write a metadata tarball (metadata.yaml only) to pair with an existing rootfs
    GenerateMetadata(GenerateArgs),
}

#[derive(clap::Args)]
struct AddArgs {
    /// Unified image tarball, or the metadata tarball of a split image
    image: PathBuf,
    /// The rootfs of a split image (squashfs or tarball)
    rootfs: Option<PathBuf>,
    /// Add an alias (repeatable)
    #[arg(long = "alias")]
    aliases: Vec<String>,
    /// Do not add the default "{os}/{release}/{variant}" alias
    #[arg(long)]
    no_default_alias: bool,
    /// Product name (default "{os}:{release}:{variant}:{architecture}")
    #[arg(long)]
    product_name: Option<String>,
    /// Operating system name (default: properties.os of metadata.yaml)
    #[arg(long)]
    os: Option<String>,
    /// Release name (default: properties.release of metadata.yaml)
    #[arg(long)]
    release: Option<String>,
    /// Variant name (default: properties.variant of metadata.yaml, else "default")
    #[arg(long)]
    variant: Option<String>,
    /// Version name, starting with YYYYMMDD (default: the creation date as YYYYMMDDhhmm)
    #[arg(long = "version-name")]
    version: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

#[derive(clap::Args)]
struct ListArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
struct RemoveArgs {
    /// Fingerprint (or unique prefix) of the image
    fingerprint: String,
    /// Print each deleted file
    #[arg(short, long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Where to write the metadata tarball (xz-compressed)
    path: PathBuf,
    /// Operating system name
    #[arg(long)]
    os: String,
    /// Release name
    #[arg(long)]
    release: String,
    /// Variant name
    #[arg(long, default_value = "default")]
    variant: String,
    /// Architecture (default: this machine's)
    #[arg(long)]
    architecture: Option<String>,
    /// Description (default: "{os} {release} ({variant}) ({architecture}) ({YYYYMMDDhhmm})")
    #[arg(long)]
    description: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let tree = Tree::new(&cli.dir);
    match cli.command {
        Command::Add(args) => {
            let options = AddOptions {
                aliases: args.aliases,
                no_default_alias: args.no_default_alias,
                product_name: args.product_name,
                os: args.os,
                release: args.release,
                variant: args.variant,
                version: args.version,
            };
            let fp = add_image(&tree, &args.image, args.rootfs.as_deref(), &options)?;
            println!("Image added with fingerprint: {fp}");
        }
        Command::List(args) => list(&tree, args.format)?,
        Command::Remove(args) => {
            let (fp, removed) = tree.remove(&args.fingerprint)?;
            if args.verbose {
                for path in removed {
                    println!("deleting: {}", path.display());
                }
            }
            println!("Image removed: {fp}");
        }
        Command::GenerateMetadata(args) => {
            let options = MetadataOptions {
                os: args.os,
                release: args.release,
                variant: args.variant,
                architecture: args
                    .architecture
                    .unwrap_or_else(|| std::env::consts::ARCH.to_string()),
                description: args.description,
                creation_date: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default(),
            };
            generate_metadata(&args.path, &options)?;
        }
    }
    Ok(())
}

fn list(tree: &Tree, format: Format) -> anyhow::Result<()> {
    let host = lxd_simplestreams::arch::canonical_name(std::env::consts::ARCH).unwrap_or("x86_64");
    let catalog = tree.catalog(host)?;
    if let Format::Json = format {
        println!("{}", serde_json::to_string(catalog.images())?);
        return Ok(());
    }
    let header = [
        "FINGERPRINT",
        "ALIASES",
        "DESCRIPTION",
        "OS",
        "RELEASE",
        "VARIANT",
        "ARCHITECTURE",
        "TYPE",
        "CREATED",
    ];
    let mut rows: Vec<Vec<String>> = catalog
        .images()
        .iter()
        .map(|image| {
            let p = |k: &str| image.properties.get(k).cloned().unwrap_or_default();
            let aliases: Vec<&str> = image.aliases.iter().map(|a| a.name.as_str()).collect();
            vec![
                image.fingerprint.clone(),
                aliases.join(", "),
                p("description"),
                p("os"),
                p("release"),
                p("variant"),
                image.architecture.clone(),
                image.kind.clone(),
                image.created_at.get(..10).unwrap_or_default().to_string(),
            ]
        })
        .collect();
    rows.sort();
    match format {
        Format::Csv => {
            for row in rows {
                println!(
                    "{}",
                    row.iter()
                        .map(|c| csv_field(c))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        _ => print!("{}", table(&header, &rows)),
    }
    Ok(())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// A table with `+---+` borders, as `lxc` draws them.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+\n";
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("| {c:<w$} "))
            .collect::<String>()
            + "|\n"
    };
    let mut out = rule.clone();
    out += &line(header.to_vec());
    out += &rule;
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
        out += &rule;
    }
    out
}
