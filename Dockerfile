# The controller image: built with Maven on a JDK 17, run on a Java 17 JRE as a non-root user.
#   docker build -t sluice:0.1.0 .
# (No Docker engine runs on the project's build machines: a test parses this file; see README.)
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY model/pom.xml model/
COPY openflow-renderer/pom.xml openflow-renderer/
COPY ovsdb/pom.xml ovsdb/
COPY k8s-watcher/pom.xml k8s-watcher/
COPY controller/pom.xml controller/
COPY test-topologies/pom.xml test-topologies/
RUN mvn -B -q -pl controller -am dependency:go-offline -DexcludeGroupIds=io.sluice || true
COPY . .
RUN mvn -B -q -pl controller -am package -DskipTests

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 sluice && useradd --system --uid 10001 --gid sluice --no-create-home sluice
WORKDIR /opt/sluice
COPY --from=build /src/controller/target/lib/ lib/
COPY --from=build /src/controller/target/sluice-controller-*.jar lib/
USER 10001:10001
EXPOSE 6653 6640 8181
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-cp", "/opt/sluice/lib/*", "io.sluice.controller.cli.SluiceCli"]
CMD ["run", "--in-cluster", "--leader-elect"]
