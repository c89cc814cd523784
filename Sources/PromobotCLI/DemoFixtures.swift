import Sandbox

/// The demo's embedded deploy repo and policy: the seed's `oms-deploy` (app, web and a migration Job in
/// dev/test/prod), so `promobot demo` needs no files, no configuration and no network.
enum DemoFixtures {
    static let project = "group/oms-deploy"
    static let branch = "master"
    static let appImage = "registry.example.com/oms/app"
    static let webImage = "registry.example.com/oms/web"
    /// The images' registry host; the demo's config points it at the sandbox's registry.
    static let registryHost = "registry.example.com"

    /// Pushes app and web at each of `versions` to the sandbox's registry (as CI's `docker push` would).
    static func pushImages(_ sandbox: Sandbox, versions: [String]) {
        for version in versions {
            for image in [appImage, webImage] { sandbox.pushImage(repository(of: image), tag: version) }
        }
    }

    /// `oms/app` for `registry.example.com/oms/app`.
    static func repository(of image: String) -> String { String(image.dropFirst(registryHost.count + 1)) }

    /// The deploy repo's files with every environment at `version` for both images.
    static func deployTree(dev: String, test: String, prod: String) -> [String: String] {
        var files: [String: String] = ["README.md": "# oms-deploy\n\nKubernetes manifests for oms, one folder per environment. Argo CD syncs each folder.\n"]
        for (env, version) in [("dev", dev), ("test", test), ("prod", prod)] {
            files["\(env)/app/deploy.yaml"] = appDeployment(env: env, version: version)
            files["\(env)/app/migration.yaml"] = migrationJob(env: env, version: version)
            files["\(env)/web/deploy.yaml"] = webDeployment(env: env, version: version)
        }
        return files
    }

    static func appDeployment(env: String, version: String) -> String {
        """
        # oms application server (\(env))
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: oms-app
          namespace: oms-\(env)
          labels:
            app: oms-app
        spec:
          replicas: \(env == "prod" ? 3 : 1)
          selector:
            matchLabels:
              app: oms-app
          template:
            metadata:
              labels:
                app: oms-app
            spec:
              containers:
                - name: app
                  # the tag is written by CI on dev and by promobot on test and prod
                  image: \(appImage):\(version)
                  ports:
                    - containerPort: 8080
                  readinessProbe:
                    httpGet: {path: /healthz, port: 8080}

        """
    }

    static func migrationJob(env: String, version: String) -> String {
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: oms-migration
          namespace: oms-\(env)
          annotations:
            argocd.argoproj.io/hook: PreSync
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: migrate
                  image: "\(appImage):\(version)"
                  args: ["migrate", "--to", "latest"]

        """
    }

    static func webDeployment(env: String, version: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: oms-web
          namespace: oms-\(env)
        spec:
          replicas: \(env == "prod" ? 2 : 1)
          selector:
            matchLabels: {app: oms-web}
          template:
            metadata:
              labels: {app: oms-web}
            spec:
              containers:
                - name: web
                  image: '\(webImage):\(version)'
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: oms-web
          namespace: oms-\(env)
        spec:
          selector: {app: oms-web}
          ports:
            - port: 80
              targetPort: 8080

        """
    }

    /// The demo's policy, the same shape as `policies/oms.yaml`, written for the sandbox's URLs.
    static func policy(healthURL: String) -> String {
        """
        version: 1
        name: oms
        repository: \(project)
        branch: \(branch)
        images:
          - \(appImage)
          - \(webImage)
        stages:
          - name: dev
            paths: [dev/]
            health:
              - argocd: oms-dev
                settle: 2m
              - http: \(healthURL)
                status: 200
              - prometheus: 'sum(rate(http_errors_total{env="dev"}[5m]))'
                below: 0.5
          - name: test
            paths: [test/]
            soak: 30m
            merge: auto
            health:
              - argocd: oms-test
                settle: 5m
          - name: prod
            paths: [prod/]
            soak: 24h
            merge: approved
            approvals: 2
            timezone: Asia/Shanghai
            windows:
              - days: [mon, tue, wed, thu]
                hours: "10:00-16:00"
            freeze:
              - from: 2026-12-20
                until: 2027-01-04
                reason: year-end freeze
            tags: '^\\d+\\.\\d+\\.\\d+$'
            pin: digest
            labels: [prod]
            reviewers: [alice, bob]
            health:
              - argocd: oms-prod
                settle: 2m
            rollback:
              auto: true
              within: 1h

        """
    }
}
