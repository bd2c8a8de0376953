//! Walking a directory tree that a plugin may have shaped (catalog F06/F27): directories are opened
//! relative to their parent with `O_NOFOLLOW | O_DIRECTORY`, entries are `lstat`ed, regular files are
//! opened with `O_NOFOLLOW | O_NONBLOCK` and checked to be regular again after opening. Symlinks, FIFOs,
//! sockets and devices are recorded but never opened. Depth, entry count and bytes read are capped.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};

/// Gets each regular file's relative path and content.
pub type Reader<'a> = &'a mut dyn FnMut(&Path, &[u8]);

/// Limits of one walk.
#[derive(Clone, Copy, Debug)]
pub struct WalkLimits {
    pub max_depth: usize,
    pub max_entries: usize,
    /// Bytes read from one file (files are read only when a reader is given).
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_depth: 64,
            max_entries: 100_000,
            max_file_bytes: 16 << 20,
            max_total_bytes: 256 << 20,
        }
    }
}

/// One entry met on the walk, with `lstat` data.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// Relative to the walk's root (`""` is the root itself).
    pub rel: PathBuf,
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub size: i64,
    pub ino: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

/// What a walk saw; `truncated` is set when a limit stopped it.
#[derive(Clone, Debug, Default)]
pub struct Walk {
    pub entries: Vec<Entry>,
    pub truncated: bool,
}

fn kind_of(st: &FileStat) -> &'static str {
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFDIR => "dir",
        SFlag::S_IFREG => "file",
        SFlag::S_IFLNK => "symlink",
        SFlag::S_IFIFO => "fifo",
        SFlag::S_IFSOCK => "socket",
        SFlag::S_IFCHR => "chardev",
        SFlag::S_IFBLK => "blockdev",
        _ => "other",
    }
}

fn entry(rel: PathBuf, st: &FileStat) -> Entry {
    Entry {
        rel,
        kind: kind_of(st),
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        size: st.st_size,
        ino: st.st_ino,
        mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        ctime_ns: st.st_ctime as i128 * 1_000_000_000 + st.st_ctime_nsec as i128,
    }
}

/// Walks `root` without following any symlink (the root itself included). When `reader` is given, it
/// gets the content of each regular file (up to the limits). A missing root gives an empty walk.
pub fn walk(root: &Path, limits: WalkLimits, mut reader: Option<Reader<'_>>) -> Walk {
    let mut out = Walk::default();
    let Ok(st) = nix::sys::stat::lstat(root) else {
        return out;
    };
    out.entries.push(entry(PathBuf::new(), &st));
    let mut budget = limits.max_total_bytes;
    match kind_of(&st) {
        "dir" => {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            if let Ok(fd) = nix::fcntl::open(root, flags, Mode::empty()) {
                walk_dir(
                    fd,
                    PathBuf::new(),
                    1,
                    &limits,
                    &mut out,
                    &mut reader,
                    &mut budget,
                );
            }
        }
        "file" => {
            if let (Some(r), Some(parent), Some(name)) =
                (reader.as_mut(), root.parent(), root.file_name())
            {
                let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
                if let Ok(dir) = nix::fcntl::open(parent, flags, Mode::empty()) {
                    read_file(
                        &dir,
                        Path::new(name),
                        Path::new(""),
                        &limits,
                        *r,
                        &mut budget,
                    );
                }
            }
        }
        _ => {}
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn walk_dir(
    dir_fd: OwnedFd,
    rel: PathBuf,
    depth: usize,
    limits: &WalkLimits,
    out: &mut Walk,
    reader: &mut Option<Reader<'_>>,
    budget: &mut u64,
) {
    if depth > limits.max_depth {
        out.truncated = true;
        return;
    }
    let Ok(dup) = dir_fd.try_clone() else { return };
    let Ok(mut dir) = Dir::from_fd(dup) else {
        return;
    };
    let mut names: Vec<std::ffi::OsString> = Vec::new();
    for e in dir.iter().flatten() {
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if out.entries.len() + names.len() >= limits.max_entries {
            out.truncated = true;
            break;
        }
        use std::os::unix::ffi::OsStrExt;
        names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
    }
    names.sort();
    for name in names {
        let Ok(st) = fstatat(
            dir_fd.as_fd(),
            name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) else {
            continue;
        };
        let child_rel = rel.join(&name);
        out.entries.push(entry(child_rel.clone(), &st));
        match kind_of(&st) {
            "dir" => {
                let flags =
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                if let Ok(fd) = openat(dir_fd.as_fd(), name.as_os_str(), flags, Mode::empty()) {
                    walk_dir(fd, child_rel, depth + 1, limits, out, reader, budget);
                }
            }
            "file" => {
                if let Some(r) = reader.as_mut() {
                    read_file(&dir_fd, Path::new(&name), &child_rel, limits, *r, budget);
                }
            }
            _ => {}
        }
    }
}

fn read_file(
    dir_fd: &OwnedFd,
    name: &Path,
    rel: &Path,
    limits: &WalkLimits,
    reader: &mut dyn FnMut(&Path, &[u8]),
    budget: &mut u64,
) {
    if *budget == 0 {
        return;
    }
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let Ok(fd) = openat(dir_fd.as_fd(), name, flags, Mode::empty()) else {
        return;
    };
    match fstat(&fd) {
        Ok(st) if kind_of(&st) == "file" => {}
        _ => return,
    }
    let cap = limits.max_file_bytes.min(*budget);
    let mut buf = Vec::new();
    let _ = std::fs::File::from(fd).take(cap).read_to_end(&mut buf);
    *budget = budget.saturating_sub(buf.len() as u64);
    reader(rel, &buf);
}
