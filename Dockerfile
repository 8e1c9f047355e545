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
RUN mvn -B -q -pl controller -am package -DskipTests dependency:build-classpath \
      -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
# The classes a start-up loads (deploy/cds.sh's training run); the runtime stage archives them for its own paths.
RUN deploy/cds.sh || : > controller/target/sluice.classlist

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 sluice && useradd --system --uid 10001 --gid sluice --no-create-home sluice
WORKDIR /opt/sluice
COPY --from=build /src/controller/target/lib/ lib/
COPY --from=build /src/controller/target/sluice-controller-*.jar lib/
COPY --from=build /src/controller/target/sluice.classlist ./
# The class-data sharing archive for this image's class path (as `make build` makes one for ./sluice): the JVM maps
# the listed classes parsed and verified instead of reading them from the jars at each start. jvm.args holds the class
# path in a fixed order (the archive only fits that order) and, when the dump worked, the archive; without it the JVM
# starts as before.
RUN cp=$(ls /opt/sluice/lib/*.jar | LC_ALL=C sort | paste -sd: -) && printf -- '-cp\n%s\n' "$cp" > jvm.args \
    && if [ -s sluice.classlist ] && java -Xshare:dump -XX:SharedClassListFile=sluice.classlist \
         -XX:SharedArchiveFile=/opt/sluice/sluice.jsa -cp "$cp" > /dev/null 2>&1; then \
      echo -XX:SharedArchiveFile=/opt/sluice/sluice.jsa >> jvm.args; fi
USER 10001:10001
EXPOSE 6653 6640 8181
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "@/opt/sluice/jvm.args", "io.sluice.controller.cli.SluiceCli"]
CMD ["run", "--in-cluster", "--leader-elect"]
