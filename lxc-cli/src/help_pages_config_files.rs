//! lxc 5.0.2's help texts for `config metadata` and `config template`, as the real
//! `lxc <cmd> --help` prints them. Data only; `help.rs` lays them out. Generated from the
//! real client.

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for the global flags table.
pub const CONFIG_FILES_PAGES: &[(&str, &str, &str)] = &[
    (
        "config metadata",
        "Description:\n  Manage instance metadata files",
        "Usage:\n  lxc config metadata [flags]\n  lxc config metadata [command]\n\nAvailable Commands:\n  edit        Edit instance metadata files\n  show        Show instance metadata files\n\nGlobal Flags:\n{global}\nUse \"lxc config metadata [command] --help\" for more information about a command.\n",
    ),
    (
        "config metadata edit",
        "Description:\n  Edit instance metadata files",
        "Usage:\n  lxc config metadata edit [<remote>:]<instance> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config metadata show",
        "Description:\n  Show instance metadata files",
        "Usage:\n  lxc config metadata show [<remote>:]<instance> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config template",
        "Description:\n  Manage instance file templates",
        "Usage:\n  lxc config template [flags]\n  lxc config template [command]\n\nAvailable Commands:\n  create      Create new instance file templates\n  delete      Delete instance file templates\n  edit        Edit instance file templates\n  list        List instance file templates\n  show        Show content of instance file templates\n\nGlobal Flags:\n{global}\nUse \"lxc config template [command] --help\" for more information about a command.\n",
    ),
    (
        "config template create",
        "Description:\n  Create new instance file templates",
        "Usage:\n  lxc config template create [<remote>:]<instance> <template> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config template delete",
        "Description:\n  Delete instance file templates",
        "Usage:\n  lxc config template delete [<remote>:]<instance> <template> [flags]\n\nAliases:\n  delete, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "config template edit",
        "Description:\n  Edit instance file templates",
        "Usage:\n  lxc config template edit [<remote>:]<instance> <template> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "config template list",
        "Description:\n  List instance file templates",
        "Usage:\n  lxc config template list [<remote>:]<instance> [flags]\n\nFlags:\n  -f, --format   Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "config template show",
        "Description:\n  Show content of instance file templates",
        "Usage:\n  lxc config template show [<remote>:]<instance> <template> [flags]\n\nGlobal Flags:\n{global}",
    ),
];
