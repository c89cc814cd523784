// swift-tools-version:6.1
import PackageDescription

/// promobot: a GitOps promotion bot for GitLab.
///
/// Layering (each arrow is "depends on"; every arrow is an `import` somewhere in the source):
///   promobot -> {PromobotCLI, ProcessMemory};  PromobotCLI -> {Promotion, Board, Onboarding, Planning, Policies, Manifests, Git, GitLab, HTTP, Health, Registry,
///                               Server, Sandbox (`promobot sandbox` and `demo`), ProcessMemory}
///   Board (the status board and page) -> {Planning, Policies, Manifests, Mustache (swift-mustache)}
///   Promotion -> {Planning, Policies, Manifests, Git, GitLab, Health, Registry};  Planning -> {Policies, Manifests}
///   Onboarding (`promobot init`: deploy layouts -> a policy draft) -> {Policies, Manifests}
///   Health -> {HTTP, Policies, Manifests};  GitLab -> HTTP -> {CCurl, CCurlShims}
///   Registry (container registries: tag -> digest) -> {HTTP, GitLab (its RequestBudget), Policies, Manifests}
///   Git -> {BlockingWork, CGit2, CGitShims, HTTP (its RetryPolicy and Redaction)}
///   ProcessMemory (RSS; glibc's arena limit and freed pages given back) -> {BlockingWork, CMalloc}; used by promobot,
///                                 Server and PromobotCLI (the long-lived loops) and promobot-bench
///   Policies -> {Manifests, LocalFiles, Yams, CYaml};  LocalFiles -> Manifests
///   Manifests -> {Yams, CYaml (Yams' C module: libyaml events)}
///   Sandbox (a GitLab-compatible test server and registry) -> {BlockingWork, Policies and LocalFiles (seed files), Manifests (SHA256), Yams, Hummingbird,
///                                                 ServiceLifecycle, Logging}
///   Server (`promobot serve`) -> {Promotion, Planning, Policies, GitLab, HTTP, Git, Hummingbird, ServiceLifecycle,
///                                 Logging, Metrics, Prometheus}
///   PromobotCLI is stamped with the version by the VersionStamp build tool plugin (scripts/version).
///   promobot-bench -> {PromobotCLI, Server, Promotion, Manifests, LocalFiles, Git, Sandbox, …}
/// Manifests and Planning are the pure core: no I/O at all; Board only renders their values to text.
/// Policies reads the files it is handed through LocalFiles (the one bounded reader and YAML directory
/// walk); Git's blocking work runs off the cooperative pool through BlockingWork.
/// Linux only: the code calls Glibc directly (and `Synchronization.Mutex`), so no Apple platform is declared.
let package = Package(
    name: "promobot",
    products: [
        .executable(name: "promobot", targets: ["promobot"]),
    ],
    dependencies: [
        // Up to the next minor only: Manifests and Policies read libyaml's events through Yams' C module
        // (`CYaml`), which is not Yams' public API and may change in any release. 6.2.2 is what is tested.
        .package(url: "https://github.com/jpsim/Yams.git", .upToNextMinor(from: "6.2.2")),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The status page's HTML template (HTML-escapes every `{{value}}`).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // MARK: - C
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Fixed-argument wrappers: libcurl's for HTTP, libgit2's (and the git TCP stream) for Git.
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CGitShims", dependencies: ["CGit2"]),
        // glibc's allocator controls (`malloc_trim`): a header only, for ProcessMemory.
        .systemLibrary(name: "CMalloc"),

        // MARK: - Pure core
        .target(name: "Manifests", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Policies", dependencies: ["Manifests", "LocalFiles", .product(name: "Yams", package: "Yams")]),
        // Files on disk: the one YAML directory walk, the one bounded reader, manifest edits written all or nothing.
        .target(name: "LocalFiles", dependencies: ["Manifests"]),

        // MARK: - Adapters
        // The one "run this blocking work on a thread of its own" helper, for Git and Sandbox.
        .target(name: "BlockingWork"),
        // This process's memory (RSS, threads, descriptors) and giving glibc's freed pages back between cycles.
        .target(name: "ProcessMemory", dependencies: ["BlockingWork", "CMalloc"]),
        .target(name: "Git", dependencies: ["BlockingWork", "CGit2", "CGitShims", "HTTP"]),
        .target(name: "HTTP", dependencies: ["CCurl", "CCurlShims"]),
        .target(name: "GitLab", dependencies: ["HTTP"]),
        // Container registries (OCI distribution API): tag -> digest, token auth, credentials per host.
        .target(name: "Registry", dependencies: ["HTTP", "GitLab", "Manifests", "Policies"]),
        .target(name: "Health", dependencies: ["HTTP", "Policies", "Manifests"]),
        .target(name: "Sandbox", dependencies: [
            "BlockingWork", "Policies", "LocalFiles", "Manifests", .product(name: "Yams", package: "Yams"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // MARK: - Product
        // The planner, its value types and the MR text: pure, so the compiler keeps it free of I/O.
        .target(name: "Planning", dependencies: ["Policies", "Manifests"]),
        // `promobot init`: environments and images found in deploy repositories, and the policy proposed. Pure.
        .target(name: "Onboarding", dependencies: ["Policies", "Manifests"]),
        // The status board: built from a CycleReport, rendered as text, Markdown or the HTML page.
        .target(name: "Board", dependencies: [
            "Planning", "Policies", "Manifests", .product(name: "Mustache", package: "swift-mustache"),
        ]),
        .target(name: "Promotion", dependencies: [
            "Planning", "Policies", "Manifests", "Git", "GitLab", "Health", "Registry",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `promobot serve`: the reconcile loop, GitLab webhooks, /metrics, probes and the status page.
        .target(name: "Server", dependencies: [
            "Planning", "Policies", "Promotion", "GitLab", "HTTP", "Git", "ProcessMemory",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "PromobotCLI", dependencies: [
            "Policies", "Manifests", "LocalFiles", "Git", "HTTP", "GitLab", "Health", "Registry", "Planning", "Promotion", "Board", "Sandbox", "Server",
            "Onboarding", "ProcessMemory",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], plugins: ["VersionStamp"]),
        // Bakes the version from `git describe` (or PROMOBOT_VERSION) into PromobotCLI on every build: scripts/version.
        // Applied to the top module only, so a new commit recompiles one file, not the package.
        .plugin(name: "VersionStamp", capability: .buildTool()),
        .executableTarget(name: "promobot", dependencies: ["PromobotCLI", "ProcessMemory"]),
        .executableTarget(name: "promobot-bench", dependencies: [
            "Manifests", "LocalFiles", "Git", "Sandbox", "PromobotCLI", "Server", "Promotion", "Policies", "GitLab", "HTTP", "Health", "ProcessMemory",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // MARK: - Tests
        .testTarget(name: "ManifestsTests", dependencies: [
            "Manifests", "LocalFiles", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            .product(name: "Yams", package: "Yams"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "PoliciesTests", dependencies: ["Policies", "LocalFiles", "TestSupport"]),
        // Servers and headless Chromium shared by test targets (not shipped); `withSandbox` is the one way tests run a Sandbox.
        .target(name: "TestSupport", dependencies: ["Sandbox", "BlockingWork"], path: "Tests/TestSupport"),
        .testTarget(name: "GitTests", dependencies: ["Git", "HTTP", "Sandbox", "BlockingWork", "TestSupport"]),
        .testTarget(name: "ProcessMemoryTests", dependencies: ["ProcessMemory"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(name: "GitLabTests", dependencies: ["GitLab", "HTTP", "Sandbox", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "GitLab", "HTTP", "Manifests", "Policies", "Sandbox", "TestSupport"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "Manifests", "TestSupport"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "Policies", "Manifests"]),
        .testTarget(name: "OnboardingTests", dependencies: ["Onboarding", "Policies", "Manifests"]),
        .testTarget(name: "PromotionTests", dependencies: ["Planning", "Promotion", "Policies", "Manifests", "Sandbox", "Git", "GitLab", "HTTP", "Health", "Registry", "TestSupport"]),
        .testTarget(name: "PromobotCLITests", dependencies: [
            "PromobotCLI", "Planning", "Promotion", "Sandbox", "Policies", "Manifests", "LocalFiles", "GitLab", "HTTP", "Git", "TestSupport",
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Board", "Planning", "Policies", "Promotion", "GitLab", "HTTP", "Git", "Health", "Sandbox", "TestSupport", "ProcessMemory",
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "BoardTests", dependencies: ["Board", "Planning", "Policies", "Manifests", "TestSupport"]),
        .testTarget(name: "HealthTests", dependencies: ["Health", "Sandbox", "HTTP", "Policies", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
