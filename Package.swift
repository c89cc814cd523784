// swift-tools-version:6.1
import PackageDescription

/// promobot: a GitOps promotion bot for GitLab.
///
/// Layering (each arrow is "depends on"):
///   promobot -> PromobotCLI -> Promotion -> {Policies, Manifests, Git, GitLab, Health}
///   GitLab, Health -> HTTP -> CCurl/CShims;  Git -> CGit2/CShims, HTTP (for its RetryPolicy)
///   Sandbox (a GitLab-compatible test server) -> Hummingbird
/// Policies and Manifests are the pure core: no I/O beyond reading the files they are handed.
let package = Package(
    name: "promobot",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "promobot", targets: ["promobot"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // MARK: - C
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CShims", dependencies: ["CGit2", "CCurl"]),

        // MARK: - Pure core
        .target(name: "Manifests", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Policies", dependencies: ["Manifests", .product(name: "Yams", package: "Yams")]),

        // MARK: - Adapters
        .target(name: "Git", dependencies: ["CGit2", "CShims", "HTTP"]),
        .target(name: "HTTP", dependencies: ["CCurl", "CShims"]),
        .target(name: "GitLab", dependencies: ["HTTP"]),
        .target(name: "Health", dependencies: ["HTTP", "Policies", "Manifests"]),
        .target(name: "Sandbox", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // MARK: - Product
        // The planner, its value types and the MR text: pure, so the compiler keeps it free of I/O.
        .target(name: "Planning", dependencies: ["Policies", "Manifests"]),
        .target(name: "Promotion", dependencies: [
            "Planning", "Policies", "Manifests", "Git", "GitLab", "Health",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PromobotCLI", dependencies: [
            "Policies", "Manifests", "Git", "HTTP", "GitLab", "Health", "Planning", "Promotion", "Sandbox",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "promobot", dependencies: ["PromobotCLI"]),
        .executableTarget(name: "promobot-bench", dependencies: [
            "Manifests", "Policies", "Git", "HTTP", "GitLab", "Planning", "Promotion", "Sandbox", "PromobotCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: - Tests
        .testTarget(name: "ManifestsTests", dependencies: [
            "Manifests", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            .product(name: "Yams", package: "Yams"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "PoliciesTests", dependencies: ["Policies", "TestSupport"]),
        // Servers shared by test targets (not shipped); `withSandbox` is the one way tests run a Sandbox.
        .target(name: "TestSupport", dependencies: ["Sandbox"], path: "Tests/TestSupport"),
        .testTarget(name: "GitTests", dependencies: ["Git", "HTTP", "Sandbox", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Sandbox", "TestSupport", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(name: "GitLabTests", dependencies: ["GitLab", "HTTP", "Sandbox", "Git", "TestSupport"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "HTTP", "GitLab", "TestSupport"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "Policies", "Manifests"]),
        .testTarget(name: "PromotionTests", dependencies: ["Planning", "Promotion", "Policies", "Manifests", "Sandbox", "Git", "GitLab", "HTTP", "Health", "TestSupport"]),
        .testTarget(name: "PromobotCLITests", dependencies: ["PromobotCLI", "Planning", "Sandbox", "Policies", "Manifests", "Git", "GitLab", "TestSupport"]),
        .testTarget(name: "HealthTests", dependencies: ["Health", "Sandbox", "HTTP", "Policies", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
