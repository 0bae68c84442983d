import Foundation
import Glassbox
import Testing

@Suite struct ServeConfigurationTests {
    @Test func yamlThenEnvironmentOverDefaults() throws {
        var configuration = ServeConfiguration()
        try configuration.apply(yaml: """
            port: 9001
            host: 0.0.0.0
            cors_origins: [null, "http://localhost:3000"]
            demo: true
            heartbeat_seconds: 2.5
            """)
        try configuration.apply(environment: ["GLASSBOX_PORT": "9002", "GLASSBOX_CORS_ORIGINS": "http://a.test, http://b.test"])
        #expect(configuration.port == 9002)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.demo)
        #expect(configuration.heartbeatSeconds == 2.5)
        #expect(configuration.corsOrigins == ["http://a.test", "http://b.test"])
        #expect(configuration.streamBufferEvents == ServeConfiguration().streamBufferEvents)
    }

    @Test func unknownKeyNamesLineAndColumnAndTheKnownKeys() {
        var configuration = ServeConfiguration()
        let error = #expect(throws: ConfigurationError.self) {
            try configuration.apply(yaml: "port: 8080\nprot: 9000\n", file: "glassbox.yaml")
        }
        #expect(error?.line == 2)
        #expect(error?.description.contains("glassbox.yaml:2") == true)
        #expect(error?.description.contains("unknown key `prot`") == true)
        #expect(error?.description.contains("port") == true)
    }

    @Test func badValuesAndSyntaxAreRefusedWithWhere() {
        var configuration = ServeConfiguration()
        let range = #expect(throws: ConfigurationError.self) { try configuration.apply(yaml: "port: 70000") }
        #expect(range?.message.contains("from 0 to 65535") == true)
        let syntax = #expect(throws: ConfigurationError.self) { try configuration.apply(yaml: "port: [8080\nhost: x") }
        #expect(syntax?.line != nil)
        #expect(syntax?.message.contains("YAML syntax") == true)
        let environment = #expect(throws: ConfigurationError.self) {
            try configuration.apply(environment: ["GLASSBOX_DEMO": "maybe"])
        }
        #expect(environment?.file == "$GLASSBOX_DEMO")
        #expect(configuration.port == ServeConfiguration().port, "a refused file changes nothing before the bad key")
    }

    @Test func missingFileIsAnErrorOnlyWhenAskedFor() throws {
        let defaults = try ServeConfiguration.load(file: "/nonexistent/glassbox.yaml", environment: [:])
        #expect(defaults == ServeConfiguration())
        #expect(throws: ConfigurationError.self) {
            try ServeConfiguration.load(file: "/nonexistent/glassbox.yaml", required: true, environment: [:])
        }
    }
}
