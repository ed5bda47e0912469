//! lxc 5.0.2's help pages of `lxc storage volume` and its sub-commands, as the real
//! `lxc storage volume <cmd> --help` prints them (captured from the real client). Data only;
//! `help.rs` lays them out.

/// `(command path, description section, usage and following sections)`; `{global}` stands
/// for the global flags table.
pub const VOLUME_PAGES: &[(&str, &str, &str)] = &[
    (
        "storage volume",
        "Description:\n  Manage storage volumes\n\n  Unless specified through a prefix, all volume operations affect \"custom\" (user created) volumes.",
        "Usage:\n  lxc storage volume [flags]\n  lxc storage volume [command]\n\nAvailable Commands:\n  attach         Attach new storage volumes to instances\n  attach-profile Attach new storage volumes to profiles\n  copy           Copy storage volumes\n  create         Create new custom storage volumes\n  delete         Delete storage volumes\n  detach         Detach storage volumes from instances\n  detach-profile Detach storage volumes from profiles\n  edit           Edit storage volume configurations as YAML\n  export         Export custom storage volume\n  get            Get values for storage volume configuration keys\n  import         Import custom storage volumes\n  info           Show storage volume state information\n  list           List storage volumes\n  move           Move storage volumes between pools\n  rename         Rename storage volumes and storage volume snapshots\n  restore        Restore storage volume snapshots\n  set            Set storage volume configuration keys\n  show           Show storage volume configurations\n  snapshot       Snapshot storage volumes\n  unset          Unset storage volume configuration keys\n\nGlobal Flags:\n{global}\nUse \"lxc storage volume [command] --help\" for more information about a command.\n",
    ),
    (
        "storage volume attach",
        "Description:\n  Attach new storage volumes to instances",
        "Usage:\n  lxc storage volume attach [<remote>:]<pool> <volume> <instance> [<device name>] [<path>] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume attach-profile",
        "Description:\n  Attach new storage volumes to profiles",
        "Usage:\n  lxc storage volume attach-profile [<remote:>]<pool> <volume> <profile> [<device name>] [<path>] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume copy",
        "Description:\n  Copy storage volumes",
        "Usage:\n  lxc storage volume copy [<remote>:]<pool>/<volume>[/<snapshot>] [<remote>:]<pool>/<volume> [flags]\n\nAliases:\n  copy, cp\n\nFlags:\n      --destination-target   Destination cluster member name\n      --mode                 Transfer mode. One of pull (default), push or relay. (default \"pull\")\n      --refresh              Refresh and update the existing storage volume copies\n      --target               Cluster member name\n      --target-project       Copy to a project different from the source\n      --volume-only          Copy the volume without its snapshots\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume create",
        "Description:\n  Create new custom storage volumes",
        "Usage:\n  lxc storage volume create [<remote>:]<pool> <volume> [key=value...] [flags]\n\nFlags:\n      --target   Cluster member name\n      --type     Content type, block or filesystem (default \"filesystem\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume delete",
        "Description:\n  Delete storage volumes",
        "Usage:\n  lxc storage volume delete [<remote>:]<pool> <volume>[/<snapshot>] [flags]\n\nAliases:\n  delete, rm\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume detach",
        "Description:\n  Detach storage volumes from instances",
        "Usage:\n  lxc storage volume detach [<remote>:]<pool> <volume> <instance> [<device name>] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume detach-profile",
        "Description:\n  Detach storage volumes from profiles",
        "Usage:\n  lxc storage volume detach-profile [<remote:>]<pool> <volume> <profile> [<device name>] [flags]\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume edit",
        "Description:\n  Edit storage volume configurations as YAML",
        "Usage:\n  lxc storage volume edit [<remote>:]<pool> <volume>[/<snapshot>] [flags]\n\nExamples:\n  lxc storage volume edit [<remote>:]<pool> <volume> < volume.yaml\n      Update a storage volume using the content of pool.yaml.\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume export",
        "Description:\n  Export custom storage volume",
        "Usage:\n  lxc storage volume export [<remote>:]<pool> <volume> [<path>] [flags]\n\nFlags:\n      --compression         Define a compression algorithm: for backup or none\n      --optimized-storage   Use storage driver optimized format (can only be restored on a similar pool)\n      --target              Cluster member name\n      --volume-only         Export the volume without its snapshots\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume get",
        "Description:\n  Get values for storage volume configuration keys",
        "Usage:\n  lxc storage volume get [<remote>:]<pool> <volume>[/<snapshot>] <key> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume import",
        "Description:\n  Import backups of custom volumes including their snapshots.",
        "Usage:\n  lxc storage volume import [<remote>:]<pool> <backup file> [<volume name>] [flags]\n\nExamples:\n  lxc storage volume import default backup0.tar.gz\n  \t\tCreate a new custom volume using backup0.tar.gz as the source.\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume info",
        "Description:\n  Show storage volume state information",
        "Usage:\n  lxc storage volume info [<remote>:]<pool> <volume> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume list",
        "Description:\n  List storage volumes\n\n  The -c option takes a (optionally comma-separated) list of arguments\n  that control which image attributes to output when displaying in table\n  or csv format.\n\n  Column shorthand chars:\n      c - Content type (filesystem or block)\n      d - Description\n      e - Project name\n      L - Location of the instance (e.g. its cluster member)\n      n - Name\n      t - Type of volume (custom, image, container or virtual-machine)\n      u - Number of references (used by)\n      U - Current disk usage",
        "Usage:\n  lxc storage volume list [<remote>:]<pool> [<filter>...] [flags]\n\nAliases:\n  list, ls\n\nFlags:\n      --all-projects   All projects\n  -c, --columns        Columns (default \"etndcuL\")\n  -f, --format         Format (csv|json|table|yaml|compact) (default \"table\")\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume move",
        "Description:\n  Move storage volumes between pools",
        "Usage:\n  lxc storage volume move [<remote>:]<pool>/<volume> [<remote>:]<pool>/<volume> [flags]\n\nAliases:\n  move, mv\n\nFlags:\n      --destination-target   Destination cluster member name\n      --mode                 Transfer mode, one of pull (default), push or relay (default \"pull\")\n      --target               Cluster member name\n      --target-project       Move to a project different from the source\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume rename",
        "Description:\n  Rename storage volumes",
        "Usage:\n  lxc storage volume rename [<remote>:]<pool> <old name>[/<old snapshot name>] <new name>[/<new snapshot name>] [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume restore",
        "Description:\n  Restore storage volume snapshots",
        "Usage:\n  lxc storage volume restore [<remote>:]<pool> <volume> <snapshot> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume set",
        "Description:\n  Set storage volume configuration keys\n\n  For backward compatibility, a single configuration key may still be set with:\n      lxc storage volume set [<remote>:]<pool> <volume> <key> <value>",
        "Usage:\n  lxc storage volume set [<remote>:]<pool> <volume> <key>=<value>... [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume show",
        "Description:\n  Show storage volume configurations",
        "Usage:\n  lxc storage volume show [<remote>:]<pool> <volume>[/<snapshot>] [flags]\n\nExamples:\n  lxc storage volume show default data\n      Will show the properties of a custom volume called \"data\" in the \"default\" pool.\n\n  lxc storage volume show default container/data\n      Will show the properties of the filesystem for a container called \"data\" in the \"default\" pool.\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume snapshot",
        "Description:\n  Snapshot storage volumes",
        "Usage:\n  lxc storage volume snapshot [<remote>:]<pool> <volume> [<snapshot>] [flags]\n\nFlags:\n      --no-expiry   Ignore any configured auto-expiry for the storage volume\n      --reuse       If the snapshot name already exists, delete and create a new one\n      --target      Cluster member name\n\nGlobal Flags:\n{global}",
    ),
    (
        "storage volume unset",
        "Description:\n  Unset storage volume configuration keys",
        "Usage:\n  lxc storage volume unset [<remote>:]<pool> <volume> <key> [flags]\n\nFlags:\n      --target   Cluster member name\n\nGlobal Flags:\n{global}",
    ),
];
