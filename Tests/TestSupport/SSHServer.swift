import Foundation

/// OpenSSH's `sshd` on 127.0.0.1 with fresh host and client keys, letting the current user in by key
/// only, so libgit2's SSH transport can be tested for real. Needs `/usr/sbin/sshd` (openssh-server).
public final class SSHServer: @unchecked Sendable {
    static let sshd = "/usr/sbin/sshd"
    static let keygen = "/usr/bin/ssh-keygen"
    public static var available: Bool {
        FileManager.default.isExecutableFile(atPath: sshd) && FileManager.default.isExecutableFile(atPath: keygen)
    }

    public let directory: URL
    public let port: Int
    public let user: String
    private var pid: pid_t = 0
    public var clientKey: String { directory.appendingPathComponent("client_key").path }
    public var clientPublicKey: String { clientKey + ".pub" }
    /// A `known_hosts` file that lists this server's real host key.
    public var knownHosts: String { directory.appendingPathComponent("known_hosts").path }

    /// - Parameter extraConfig: more `sshd_config` lines (e.g. `SetEnv NAME=value` for the commands it runs).
    public init(extraConfig: String = "") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-sshd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["host_key", "client_key", "other_host_key"] {
            try Self.run(Self.keygen, ["-q", "-t", "ed25519", "-N", "", "-f", directory.appendingPathComponent(name).path])
        }
        try FileManager.default.copyItem(atPath: directory.appendingPathComponent("client_key.pub").path,
                                         toPath: directory.appendingPathComponent("authorized_keys").path)
        user = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        port = try Loopback.unusedPort()
        let hostKey = try String(contentsOf: directory.appendingPathComponent("host_key.pub"), encoding: .utf8)
        try "[127.0.0.1]:\(port) \(hostKey)".write(toFile: directory.appendingPathComponent("known_hosts").path, atomically: true, encoding: .utf8)
        let config = """
        ListenAddress 127.0.0.1:\(port)
        HostKey \(directory.appendingPathComponent("host_key").path)
        PidFile \(directory.appendingPathComponent("sshd.pid").path)
        AuthorizedKeysFile \(directory.appendingPathComponent("authorized_keys").path)
        StrictModes no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PubkeyAuthentication yes
        PermitRootLogin prohibit-password
        UsePAM no
        \(extraConfig)

        """
        let configPath = directory.appendingPathComponent("sshd_config").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        // sshd running as root wants its privilege-separation folder.
        if getuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        // posix_spawn, not Foundation's Process: sshd closes the descriptors it inherits, which Process
        // takes for the child's exit, and it then blocks in wait4 on a daemon that never exits.
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [Self.sshd, "-D", "-e", "-f", configPath]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&pid, Self.sshd, &actions, nil, &argv, environ)
        guard status == 0 else { throw SSHServerError("could not start sshd: \(String(cString: strerror(status)))") }
        let deadline = Date().addingTimeInterval(10)
        while !Loopback.accepts(port) {
            guard kill(pid, 0) == 0, Date() < deadline else {
                stop()
                throw SSHServerError("sshd did not start listening on 127.0.0.1:\(port)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// A `known_hosts` file that names this server with a different key (a man in the middle).
    public func wrongKnownHosts() throws -> String {
        let other = try String(contentsOf: directory.appendingPathComponent("other_host_key.pub"), encoding: .utf8)
        let path = directory.appendingPathComponent("wrong_known_hosts").path
        try "[127.0.0.1]:\(port) \(other)".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    public func url(_ path: String) -> String { "ssh://\(user)@127.0.0.1:\(port)\(path)" }

    public func stop() {
        if pid > 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            pid = 0
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SSHServerError("\(tool) \(arguments.joined(separator: " ")) failed") }
    }
}

/// sshd could not be set up or started.
public struct SSHServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
