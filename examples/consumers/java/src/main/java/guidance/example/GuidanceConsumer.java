package guidance.example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the suite's four topics from the beginning, as any downstream system would: each record is a
 * CloudEvent in Kafka's binary content mode, parsed by the CloudEvents SDK; its data is checked against
 * the event type's published JSON Schema; duplicates (the suite delivers at least once) are dropped by
 * the event id; the order of one aggregate's events is checked by its {@code sequence} attribute; and a
 * small read model is built: guidance acts issued per department.
 *
 * <p>It prints (or writes to {@code --out}) one JSON report of what it read and found.
 */
public final class GuidanceConsumer {
  static final List<String> TOPICS =
      List.of("intake.events", "revisit.events", "disclosure.events", "assessment.events");
  static final String GUIDANCE_ISSUED = "guidance.GuidanceIssued.v1";

  private final Map<String, JsonSchema> schemas = new HashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final ObjectMapper json = new ObjectMapper();
  private final JsonSchemaFactory schemaFactory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
  private final SchemaValidatorsConfig schemaConfig =
      SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
  private final String schemaBase;

  // What was read and found.
  private final Set<String> seenIds = new HashSet<>();
  private final Map<String, Long> lastSequence = new HashMap<>(); // subject -> last ce_sequence applied
  private final Map<String, Integer> actsPerDepartment = new TreeMap<>();
  private final Map<String, Integer> eventsPerType = new TreeMap<>();
  private final List<String> invalid = new ArrayList<>();
  private final List<String> outOfSequence = new ArrayList<>();
  private int records;
  private int duplicates;

  GuidanceConsumer(String schemaBase) {
    this.schemaBase = schemaBase.endsWith("/") ? schemaBase : schemaBase + "/";
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new LinkedHashMap<>();
    Properties kafka = new Properties();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (argv[i].equals("--property")) { // a Kafka client setting, e.g. security.protocol=SASL_SSL
        String[] pair = argv[i + 1].split("=", 2);
        kafka.put(pair[0], pair[1]);
      } else {
        args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
      }
    }
    if (!args.containsKey("bootstrap") || !args.containsKey("schemas")) {
      System.err.println(
          "usage: guidance-consumer --bootstrap HOST:PORT --schemas BASE_URL [--topic-prefix P] "
              + "[--timeout-s 60] [--out FILE] [--property key=value ...]");
      System.exit(2);
    }
    String prefix = args.getOrDefault("topic-prefix", "");
    List<String> topics =
        TOPICS.stream().map(t -> prefix.isEmpty() ? t : prefix + "." + t).collect(Collectors.toList());
    GuidanceConsumer consumer = new GuidanceConsumer(args.get("schemas"));
    consumer.readAll(args.get("bootstrap"), topics, kafka, Duration.ofSeconds(Long.parseLong(args.getOrDefault("timeout-s", "60"))));
    String report = consumer.report();
    if (args.containsKey("out")) {
      Files.writeString(Path.of(args.get("out")), report, StandardCharsets.UTF_8);
    } else {
      System.out.println(report);
    }
  }

  /** Every record now on the topics, from the first: assigned by hand, so no group coordination is needed. */
  void readAll(String bootstrap, List<String> topics, Properties extra, Duration timeout) {
    Properties config = new Properties();
    config.putAll(extra);
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, CloudEvent> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new CloudEventDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("did not reach the end offsets " + end + " in " + timeout);
        }
        for (ConsumerRecord<String, CloudEvent> record : consumer.poll(Duration.ofMillis(500))) {
          apply(record);
        }
      }
    }
  }

  void apply(ConsumerRecord<String, CloudEvent> record) {
    records++;
    CloudEvent event = record.value();
    if (!seenIds.add(event.getId())) {
      duplicates++; // delivered again (a relay retry): already applied
      return;
    }
    eventsPerType.merge(event.getType(), 1, Integer::sum);
    JsonNode data;
    try {
      data = json.readTree(event.getData() == null ? new byte[0] : event.getData().toBytes());
      Set<ValidationMessage> errors = schema(event.getType()).validate(data);
      if (!errors.isEmpty()) {
        invalid.add(event.getId() + " " + event.getType() + ": " + errors);
        return;
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      invalid.add(event.getId() + " " + event.getType() + ": " + e);
      return;
    }
    checkSequence(event);
    if (event.getType().equals(GUIDANCE_ISSUED)) {
      actsPerDepartment.merge(data.get("department_id").asText(), 1, Integer::sum);
    }
  }

  /** One aggregate's events carry its version after each: 1, 2, 3, … in the order they were appended. */
  private void checkSequence(CloudEvent event) {
    Object attribute = event.getExtension("sequence");
    if (attribute == null || event.getSubject() == null) {
      outOfSequence.add(event.getId() + ": no sequence or subject");
      return;
    }
    long sequence = Long.parseLong(attribute.toString());
    long expected = lastSequence.getOrDefault(event.getSubject(), 0L) + 1;
    if (sequence != expected) {
      outOfSequence.add(event.getSubject() + ": expected " + expected + ", got " + sequence + " (" + event.getType() + ")");
    }
    lastSequence.put(event.getSubject(), Math.max(sequence, expected - 1));
  }

  /** The JSON Schema of an event type, fetched once from where the suite publishes it. */
  private JsonSchema schema(String type) throws IOException, InterruptedException {
    JsonSchema known = schemas.get(type);
    if (known != null) {
      return known;
    }
    HttpRequest request = HttpRequest.newBuilder(URI.create(schemaBase + type + ".json")).timeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (response.statusCode() != 200) {
      throw new IOException("no schema for " + type + " at " + request.uri() + ": HTTP " + response.statusCode());
    }
    JsonSchema schema = schemaFactory.getSchema(json.readTree(response.body()), schemaConfig);
    schemas.put(type, schema);
    return schema;
  }

  String report() throws IOException {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("records", records);
    report.put("distinct_events", seenIds.size());
    report.put("duplicates", duplicates);
    report.put("events_per_type", eventsPerType);
    report.put("acts_per_department", actsPerDepartment);
    report.put("invalid", invalid);
    report.put("out_of_sequence", outOfSequence);
    report.put("aggregates", lastSequence.size());
    return json.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
  }
}
