//! lxc 5.0.2's help texts for the snapshot and transfer commands (`snapshot`, `restore`,
//! `copy`, `move`, `publish`, `file` and its sub-commands, `export`, `import`) as the real
//! `lxc <cmd> --help` prints them. Data only; `help.rs` lays them out. Generated from the
//! real client.

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for the global flags table.
pub const TRANSFER_PAGES: &[(&str, &str, &str)] = &[
    (
        "snapshot",
        "Description:\n  Create instance snapshots\n\n  When --stateful is used, LXD attempts to checkpoint the instance's\n  running state, including process memory state, TCP connections, ...",
        "Usage:\n  lxc snapshot [<remote>:]<instance> [<snapshot name>] [flags]\n\nExamples:\n  lxc snapshot u1 snap0\n      Create a snapshot of \"u1\" called \"snap0\".\n\nFlags:\n      --no-expiry   Ignore any configured auto-expiry for the instance\n      --reuse       If the snapshot name already exists, delete and create a new one\n      --stateful    Whether or not to snapshot the instance's running state\n\nGlobal Flags:\n{global}",
    ),
    (
        "restore",
        "Description:\n  Restore instances from snapshots\n\n  If --stateful is passed, then the running state will be restored too.",
        "Usage:\n  lxc restore [<remote>:]<instance> <snapshot> [flags]\n\nExamples:\n  lxc snapshot u1 snap0\n      Create the snapshot.\n\n  lxc restore u1 snap0\n      Restore the snapshot.\n\nFlags:\n      --stateful   Whether or not to restore the instance's running state from snapshot (if available)\n\nGlobal Flags:\n{global}",
    ),
    (
        "copy",
        "Description:\n  Copy instances within or in between LXD servers\n\n  Transfer modes (--mode):\n   - pull: Target server pulls the data from the source server (source must listen on network)\n   - push: Source server pushes the data to the target server (target must listen on network)\n   - relay: The CLI connects to both source and server and proxies the data (both source and target must listen on network)\n\n  The pull transfer mode is the default as it is compatible with all LXD versions.",
        "Usage:\n  lxc copy [<remote>:]<source>[/<snapshot>] [[<remote>:]<destination>] [flags]\n\nAliases:\n  copy, cp\n\nFlags:\n      --allow-inconsistent   Ignore copy errors for volatile files\n  -c, --config               Config key/value to apply to the new instance\n  -d, --device               New key/value to apply to a specific device\n  -e, --ephemeral            Ephemeral instance\n      --instance-only        Copy the instance without its snapshots\n      --mode                 Transfer mode. One of pull, push or relay (default \"pull\")\n      --no-profiles          Create the instance with no profiles applied\n  -p, --profile              Profile to apply to the new instance\n      --refresh              Perform an incremental copy\n      --stateless            Copy a stateful instance stateless\n  -s, --storage              Storage pool name\n      --target               Cluster member name\n      --target-project       Copy to a project different from the source\n\nGlobal Flags:\n{global}",
    ),
    (
        "move",
        "Description:\n  Move instances within or in between LXD servers\n\n  Transfer modes (--mode):\n   - pull: Target server pulls the data from the source server (source must listen on network)\n   - push: Source server pushes the data to the target server (target must listen on network)\n   - relay: The CLI connects to both source and server and proxies the data (both source and target must listen on network)\n\n  The pull transfer mode is the default as it is compatible with all LXD versions.",
        "Usage:\n  lxc move [<remote>:]<instance>[/<snapshot>] [<remote>:][<instance>[/<snapshot>]] [flags]\n\nAliases:\n  move, mv\n\nExamples:\n  lxc move [<remote>:]<source instance> [<remote>:][<destination instance>] [--instance-only]\n      Move an instance between two hosts, renaming it if destination name differs.\n\n  lxc move <old name> <new name> [--instance-only]\n      Rename a local instance.\n\n  lxc move <instance>/<old snapshot name> <instance>/<new snapshot name>\n      Rename a snapshot.\n\nFlags:\n      --allow-inconsistent   Ignore copy errors for volatile files\n  -c, --config               Config key/value to apply to the target instance\n  -d, --device               New key/value to apply to a specific device\n      --instance-only        Move the instance without its snapshots\n      --mode                 Transfer mode. One of pull, push or relay. (default \"pull\")\n      --no-profiles          Unset all profiles on the target instance\n  -p, --profile              Profile to apply to the target instance\n      --stateless            Copy a stateful instance stateless\n  -s, --storage              Storage pool name\n      --target               Cluster member name\n      --target-project       Copy to a project different from the source\n\nGlobal Flags:\n{global}",
    ),
    (
        "publish",
        "Description:\n  Publish instances as images",
        "Usage:\n  lxc publish [<remote>:]<instance>[/<snapshot>] [<remote>:] [flags] [key=value...]\n\nFlags:\n      --alias              New alias to define at target\n      --compression none   Compression algorithm to use (none for uncompressed)\n      --expire             Image expiration date (format: rfc3339)\n  -f, --force              Stop the instance if currently running\n      --public             Make the image public\n\nGlobal Flags:\n{global}",
    ),
    (
        "file",
        "Description:\n  Manage files in instances",
        "Usage:\n  lxc file [flags]\n  lxc file [command]\n\nAvailable Commands:\n  delete      Delete files in instances\n  edit        Edit files in instances\n  mount       Mount files from instances\n  pull        Pull files from instances\n  push        Push files into instances\n\nGlobal Flags:\n{global}\nUse \"lxc file [command] --help\" for more information about a command.\n",
    ),
    (
        "file delete",
        "Description:\n  Delete files in instances",
        "Usage:\n  lxc file delete [<remote>:]<instance>/<path> [[<remote>:]<instance>/<path>...] [flags]\n\nAliases:\n  delete, rm\n\nGlobal Flags:\n{global}",
    ),
    (
        "file edit",
        "Description:\n  Edit files in instances",
        "Usage:\n  lxc file edit [<remote>:]<instance>/<path> [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "file mount",
        "Description:\n  Mount files from instances",
        "Usage:\n  lxc file mount [<remote>:]<instance>[/<path>] [<target path>] [flags]\n\nExamples:\n  lxc file mount foo/root fooroot\n     To mount /root from the instance foo onto the local fooroot directory.\n\nFlags:\n      --auth-user string   Set authentication user when using SSH SFTP listener\n      --listen string      Setup SSH SFTP listener on address:port instead of mounting\n      --no-auth            Disable authentication when using SSH SFTP listener\n\nGlobal Flags:\n{global}",
    ),
    (
        "file pull",
        "Description:\n  Pull files from instances",
        "Usage:\n  lxc file pull [<remote>:]<instance>/<path> [[<remote>:]<instance>/<path>...] <target path> [flags]\n\nExamples:\n  lxc file pull foo/etc/hosts .\n     To pull /etc/hosts from the instance and write it to the current directory.\n\nFlags:\n  -p, --create-dirs   Create any directories necessary\n  -r, --recursive     Recursively transfer files\n\nGlobal Flags:\n{global}",
    ),
    (
        "file push",
        "Description:\n  Push files into instances",
        "Usage:\n  lxc file push <source path>... [<remote>:]<instance>/<path> [flags]\n\nExamples:\n  lxc file push /etc/hosts foo/etc/hosts\n     To push /etc/hosts into the instance \"foo\".\n\nFlags:\n  -p, --create-dirs   Create any directories necessary\n      --gid           Set the file's gid on push (default -1)\n      --mode          Set the file's perms on push\n  -r, --recursive     Recursively transfer files\n      --uid           Set the file's uid on push (default -1)\n\nGlobal Flags:\n{global}",
    ),
    (
        "export",
        "Description:\n  Export instances as backup tarballs.",
        "Usage:\n  lxc export [<remote>:]<instance> [target] [--instance-only] [--optimized-storage] [flags]\n\nExamples:\n  lxc export u1 backup0.tar.gz\n      Download a backup tarball of the u1 instance.\n\nFlags:\n      --compression         Compression algorithm to use (none for uncompressed)\n      --instance-only       Whether or not to only backup the instance (without snapshots)\n      --optimized-storage   Use storage driver optimized format (can only be restored on a similar pool)\n\nGlobal Flags:\n{global}",
    ),
    (
        "import",
        "Description:\n  Import backups of instances including their snapshots.",
        "Usage:\n  lxc import [<remote>:] <backup file> [<instance name>] [flags]\n\nExamples:\n  lxc import backup0.tar.gz\n      Create a new instance using backup0.tar.gz as the source.\n\nFlags:\n  -s, --storage   Storage pool name\n\nGlobal Flags:\n{global}",
    ),
];
