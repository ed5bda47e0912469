//! lxc 5.0.2's help texts for `config trust`, as the real `lxc config trust <cmd> --help`
//! prints them. Data only; `help.rs` lays them out. Generated from the real client.

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for the global flags table.
pub const TRUST_PAGES: &[(&str, &str, &str)] = &[
    (
        "config trust",
        "Description:\n  Manage trusted clients",
        "Usage:\n  lxc config trust [flags]\n  lxc config trust [command]\n\nAvailable Commands:\n  add          Add new trusted client\n  edit         Edit trust configurations as YAML\n  list         List trusted clients\n  list-tokens  List all active certificate add tokens\n  remove       Remove trusted client\n  revoke-token Revoke certificate add token\n  show         Show trust configurations\n\nGlobal Flags:\n{global}\nUse \"lxc config trust [command] --help\" for more information about a command.\n",
    ),
    (
        "config trust add",
        "Description:\n  Add new trusted client\n\n  The following certificate types are supported:\n  - client (default)\n  - metrics\n\n  If the certificate is omitted, a token will be generated and returned. A client\n  providing a valid token will have its client certificate added to the trusted list\n  and the consumed token will be invalidated. Similar to certificates, tokens can be\n  restricted to one or more projects.",
        "Usage:\n  lxc config trust add [<remote>:] [<cert>] [flags]\n\nFlags:\n      --name         Alternative certificate name\n      --projects     List of projects to restrict the certificate to\n      --restricted   Restrict the certificate to one or more projects\n      --type         Type of certificate (default \"client\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "config trust edit",
        "Description:\n  Edit trust configurations as YAML",
        "Usage:\n  lxc config trust edit [<remote>:]<fingerprint> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config trust list",
        "Description:\n  List trusted clients",
        "Usage:\n  lxc config trust list [<remote>:] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "config trust list-tokens",
        "Description:\n  List all active certificate add tokens",
        "Usage:\n  lxc config trust list-tokens [<remote>:] [flags]\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "config trust remove",
        "Description:\n  Remove trusted client",
        "Usage:\n  lxc config trust remove [<remote>:]<fingerprint> [flags]\n\nAliases:\n  remove, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "config trust revoke-token",
        "Description:\n  Revoke certificate add token",
        "Usage:\n  lxc config trust revoke-token [<remote>:] <name> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config trust show",
        "Description:\n  Show trust configurations",
        "Usage:\n  lxc config trust show [<remote>:]<fingerprint> [flags]\n\nGlobal Flags:\n{global}",
    ),
];
