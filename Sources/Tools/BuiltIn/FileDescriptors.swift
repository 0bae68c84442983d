import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor, closed when released.
final class OpenDescriptor {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

/// Reading and writing a checked ``WorkspacePath``: every component is opened relative to its parent
/// with `O_NOFOLLOW`, so nothing is reached through a symbolic link, even one created after the check.
enum WorkspaceFiles {
    /// What kind of thing a directory entry is, without following links.
    enum Kind: String { case file, directory, symlink, other }

    static func kind(of mode: mode_t) -> Kind {
        switch mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: .other
        }
    }

    /// Opens the folder at `components` below the root; with `create`, makes the missing folders.
    static func openDirectory(root: String, components: ArraySlice<String>, create: Bool, shown: String) throws(ToolError) -> OpenDescriptor {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw failure(errno, "the workspace root", action: "open") }
        var current = OpenDescriptor(rootFD)
        for part in components {
            var fd = openat(current.fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0, errno == ENOENT, create {
                if mkdirat(current.fd, part, 0o755) != 0, errno != EEXIST { throw failure(errno, shown, action: "create a folder for") }
                fd = openat(current.fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard fd >= 0 else { throw openFailure(errno, in: current, part, shown: shown) }
            current = OpenDescriptor(fd)
        }
        return current
    }

    /// The first `maxBytes` of a regular file, its size, and whether it holds more.
    static func read(_ path: WorkspacePath, maxBytes: Int) throws(ToolError) -> (data: Data, size: Int, truncated: Bool) {
        guard !path.isRoot else { throw .invalidInput("`.` is the workspace folder; name a file, or list the folder with file.list") }
        let parent = try openDirectory(root: path.root, components: path.components.dropLast(), create: false, shown: path.requested)
        let fd = openat(parent.fd, path.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw openFailure(errno, in: parent, path.name, shown: path.requested) }
        let file = OpenDescriptor(fd)
        var info = stat()
        guard fstat(file.fd, &info) == 0 else { throw failure(errno, path.requested, action: "inspect") }
        guard kind(of: info.st_mode) == .file else {
            throw .invalidInput("`\(path.requested)` is a \(kind(of: info.st_mode) == .directory ? "folder" : "special file"), not a regular file; list folders with file.list")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // Read one byte past the cap to learn whether the file holds more than is returned.
        while data.count <= maxBytes {
            let want = min(buffer.count, maxBytes + 1 - data.count)
            let got = buffer.withUnsafeMutableBytes { posixRead(file.fd, $0.baseAddress, want) }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(errno, path.requested, action: "read")
            }
            if got == 0 { break }
            data.append(contentsOf: buffer[0..<got])
        }
        let truncated = data.count > maxBytes
        if truncated { data = data.prefix(maxBytes) }
        return (data, Int(info.st_size), truncated)
    }

    enum WriteMode: String, CaseIterable { case create, overwrite, append }

    /// Writes `data` according to `mode`; returns whether the file was created and its size afterwards.
    /// `overwrite` writes a temporary file and renames it over the old one, so readers never see half a file.
    static func write(_ path: WorkspacePath, data: Data, mode: WriteMode, maxFileBytes: Int) throws(ToolError) -> (created: Bool, size: Int) {
        guard !path.isRoot else { throw .invalidInput("`.` is the workspace folder; name a file to write") }
        let parent = try openDirectory(root: path.root, components: path.components.dropLast(), create: true, shown: path.requested)
        var existing = stat()
        let exists = fstatat(parent.fd, path.name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        if exists {
            switch kind(of: existing.st_mode) {
            case .file: break
            case .directory: throw .invalidInput("`\(path.requested)` is a folder; name a file to write")
            case .symlink: throw ToolError("refused", "`\(path.requested)` became a symbolic link after it was checked; call the tool again")
            case .other: throw .invalidInput("`\(path.requested)` is a special file; name a regular file")
            }
        }
        switch mode {
        case .create:
            guard !exists else {
                throw ToolError("refused", "`\(path.requested)` already exists; use mode `overwrite` to replace it or `append` to add to it")
            }
            let fd = openat(parent.fd, path.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw failure(errno, path.requested, action: "create") }
            try writeAll(OpenDescriptor(fd), data, shown: path.requested)
            return (true, data.count)
        case .append:
            if exists, Int(existing.st_size) + data.count > maxFileBytes {
                throw ToolError("too_large", "appending \(data.count) bytes would make `\(path.requested)` \(Int(existing.st_size) + data.count) bytes, over the workspace limit of \(maxFileBytes); write a new file instead")
            }
            let fd = openat(parent.fd, path.name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw failure(errno, path.requested, action: "open") }
            let file = OpenDescriptor(fd)
            try writeAll(file, data, shown: path.requested)
            var after = stat()
            fstat(file.fd, &after)
            return (!exists, Int(after.st_size))
        case .overwrite:
            let temporary = ".\(path.name).glassbox-\(UUID().uuidString.prefix(8))"
            let fd = openat(parent.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, exists ? (existing.st_mode & 0o777) : 0o644)
            guard fd >= 0 else { throw failure(errno, path.requested, action: "create") }
            do throws(ToolError) {
                let file = OpenDescriptor(fd)
                try writeAll(file, data, shown: path.requested)
                guard fsync(file.fd) == 0 else { throw failure(errno, path.requested, action: "write") }
                guard renameat(parent.fd, temporary, parent.fd, path.name) == 0 else { throw failure(errno, path.requested, action: "replace") }
            } catch {
                unlinkat(parent.fd, temporary, 0)
                throw error
            }
            return (!exists, data.count)
        }
    }

    private static func writeAll(_ file: OpenDescriptor, _ data: Data, shown: String) throws(ToolError) {
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { posixWrite(file.fd, $0.baseAddress! + offset, data.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(errno, shown, action: "write")
            }
            offset += written
        }
    }

    /// An error for a failed `openat`: a component that is now a symbolic link (`ELOOP`, or `ENOTDIR`
    /// with `O_DIRECTORY`) means the path changed after it was checked.
    static func openFailure(_ code: Int32, in parent: OpenDescriptor, _ name: String, shown: String) -> ToolError {
        var info = stat()
        if code == ENOTDIR || code == ELOOP, fstatat(parent.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0, kind(of: info.st_mode) == .symlink {
            return failure(ELOOP, shown, action: "open")
        }
        return failure(code, shown, action: "open")
    }

    /// An error for `errno` that says what to do about it.
    static func failure(_ code: Int32, _ shown: String, action: String) -> ToolError {
        let what = shown.hasPrefix("the ") ? shown : "`\(shown)`"
        switch code {
        case ENOENT:
            return ToolError("not_found", "\(what) does not exist; list the folder with file.list to see what is there")
        case ELOOP, EMLINK:
            return ToolError("refused", "\(what) leads through a symbolic link that appeared after the path was checked; call the tool again")
        case ENOTDIR:
            return ToolError("invalid_input", "a component of \(what) is a file, not a folder (or became a link after the check); check the path with file.list")
        case EACCES, EPERM:
            return ToolError("io_error", "permission denied to \(action) \(what); ask an administrator to fix the workspace's file permissions")
        case ENOSPC, EDQUOT:
            return ToolError("io_error", "no space left to \(action) \(what); free disk space and try again", retryable: true)
        case EISDIR:
            return ToolError("invalid_input", "\(what) is a folder; name a file")
        default:
            return ToolError("io_error", "could not \(action) \(what): \(String(cString: strerror(code)))")
        }
    }
}

// The POSIX calls, named apart from the tools' own `read`/`write` functions.
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, buffer, count)
    #else
    Darwin.read(fd, buffer, count)
    #endif
}

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}

extension WorkspaceFiles {
    struct Entry: Equatable {
        /// Relative to the workspace root.
        var path: String
        var kind: Kind
        var size: Int
    }

    /// The entries of a folder, sorted by path; recursively breadth-first when asked, never into
    /// symbolic links or `.git`. Stops after `limit` matching entries (`truncated`).
    static func list(_ folder: WorkspacePath, glob: String?, recursive: Bool, limit: Int) throws(ToolError) -> (entries: [Entry], truncated: Bool) {
        let top = try openDirectory(root: folder.root, components: folder.components[...], create: false, shown: folder.requested)
        var entries: [Entry] = []
        var queue: [(descriptor: OpenDescriptor, relative: String)] = [(top, "")]
        while !queue.isEmpty {
            let (directory, relative) = queue.removeFirst()
            for name in try names(in: directory, shown: relative.isEmpty ? folder.requested : relative) {
                var info = stat()
                guard fstatat(directory.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let inFolder = relative.isEmpty ? name : relative + "/" + name
                let kind = kind(of: info.st_mode)
                if glob.map({ matches($0, name: name, path: inFolder) }) ?? true {
                    if entries.count == limit { return (entries, true) }
                    entries.append(Entry(path: folder.isRoot ? inFolder : folder.resolved + "/" + inFolder, kind: kind, size: kind == .file ? Int(info.st_size) : 0))
                }
                if recursive, kind == .directory, name != ".git" {
                    let fd = openat(directory.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if fd >= 0 { queue.append((OpenDescriptor(fd), inFolder)) }
                }
            }
        }
        return (entries, false)
    }

    /// A pattern without `/` matches the entry's name; with `/`, its path below the listed folder.
    private static func matches(_ glob: String, name: String, path: String) -> Bool {
        fnmatch(glob, glob.contains("/") ? path : name, 0) == 0
    }

    private static func names(in directory: OpenDescriptor, shown: String) throws(ToolError) -> [String] {
        // fdopendir takes ownership of the descriptor it is given, so give it a duplicate.
        let copy = dup(directory.fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            throw failure(code, shown, action: "list")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
