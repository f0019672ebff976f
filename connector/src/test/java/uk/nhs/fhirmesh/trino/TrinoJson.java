package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.AnnotationIntrospector;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.introspect.AnnotatedClass;
import com.fasterxml.jackson.databind.introspect.VisibilityChecker;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.ser.BeanSerializerFactory;
import com.fasterxml.jackson.databind.ser.ResolvableSerializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.airlift.slice.DynamicSliceOutput;
import io.airlift.slice.SliceInput;
import io.airlift.slice.SliceOutput;
import io.airlift.slice.Slices;
import io.trino.spi.block.Block;
import io.trino.spi.block.BlockEncoding;
import io.trino.spi.block.BlockEncodingSerde;
import io.trino.spi.block.ArrayBlockEncoding;
import io.trino.spi.block.ByteArrayBlockEncoding;
import io.trino.spi.block.DictionaryBlockEncoding;
import io.trino.spi.block.Fixed12BlockEncoding;
import io.trino.spi.block.IntArrayBlockEncoding;
import io.trino.spi.block.LongArrayBlockEncoding;
import io.trino.spi.block.RunLengthBlockEncoding;
import io.trino.spi.block.VariableWidthBlockEncoding;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.type.ArrayType;
import io.trino.spi.type.Type;

import java.io.IOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.DateType.DATE;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static io.trino.spi.type.IntegerType.INTEGER;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MILLIS;
import static io.trino.spi.type.VarcharType.VARCHAR;

/**
 * JSON as a Trino 476 coordinator sends plan fragments and splits to its workers, rebuilt from the engine's parts
 * (trino-main is not a dependency): airlift's ObjectMapperProvider (auto-detection off but for records'
 * accessors, Jdk8Module, absent values left out), handles written with an {@code @type} property (the engine's
 * AbstractTypedJacksonModule), types by id (TypeSerializer/TypeDeserializer) and blocks as base64 of their
 * encoding (BlockJsonSerde with the SPI's block encodings).
 */
final class TrinoJson
{
    private static final List<Type> TYPES = List.of(VARCHAR, BIGINT, INTEGER, DOUBLE, BOOLEAN, DATE, TIMESTAMP_TZ_MILLIS,
            new ArrayType(VARCHAR), new ArrayType(BIGINT), new ArrayType(DOUBLE), new ArrayType(BOOLEAN), new ArrayType(DATE), new ArrayType(TIMESTAMP_TZ_MILLIS));

    private TrinoJson() {}

    static ObjectMapper mapper()
    {
        SimpleModule trino = new SimpleModule("trino-engine");
        typed(trino, ConnectorTableHandle.class, FhirTableHandle.class);
        typed(trino, ColumnHandle.class, FhirColumnHandle.class);
        typed(trino, ConnectorSplit.class, FhirSplit.class);
        Map<String, Type> types = TYPES.stream().collect(Collectors.toMap(type -> type.getTypeId().getId(), Function.identity()));
        trino.addSerializer(Type.class, new JsonSerializer<>()
        {
            @Override
            public void serialize(Type type, JsonGenerator json, SerializerProvider provider)
                    throws IOException
            {
                json.writeString(type.getTypeId().getId());
            }
        });
        trino.addDeserializer(Type.class, new JsonDeserializer<>()
        {
            @Override
            public Type deserialize(JsonParser json, DeserializationContext context)
                    throws IOException
            {
                Type type = types.get(json.getValueAsString());
                if (type == null) {
                    throw new IllegalArgumentException("unknown type " + json.getValueAsString());
                }
                return type;
            }
        });
        BlockEncodingSerde blocks = new Blocks(types);
        trino.addSerializer(Block.class, new JsonSerializer<>()
        {
            @Override
            public void serialize(Block block, JsonGenerator json, SerializerProvider provider)
                    throws IOException
            {
                SliceOutput output = new DynamicSliceOutput(64);
                blocks.writeBlock(output, block);
                json.writeString(Base64.getEncoder().encodeToString(output.slice().getBytes()));
            }
        });
        trino.addDeserializer(Block.class, new JsonDeserializer<>()
        {
            @Override
            public Block deserialize(JsonParser json, DeserializationContext context)
                    throws IOException
            {
                return blocks.readBlock(Slices.wrappedBuffer(Base64.getDecoder().decode(json.getValueAsString())).getInput());
            }
        });
        return JsonMapper.builder()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .serializationInclusion(JsonInclude.Include.NON_ABSENT)
                .disable(MapperFeature.AUTO_DETECT_CREATORS, MapperFeature.AUTO_DETECT_FIELDS, MapperFeature.AUTO_DETECT_SETTERS, MapperFeature.AUTO_DETECT_GETTERS,
                        MapperFeature.AUTO_DETECT_IS_GETTERS, MapperFeature.USE_GETTERS_AS_SETTERS, MapperFeature.CAN_OVERRIDE_ACCESS_MODIFIERS,
                        MapperFeature.INFER_PROPERTY_MUTATORS, MapperFeature.ALLOW_FINAL_FIELDS_AS_MUTATORS)
                .addModule(new Jdk8Module())
                .addModule(new RecordAutoDetect())
                .addModule(trino)
                .build();
    }

    /** As the engine's AbstractTypedJacksonModule: the value's own properties plus {@code @type}. */
    private static <T> void typed(SimpleModule module, Class<T> base, Class<? extends T> type)
    {
        String id = "fhir:" + type.getName();
        module.addSerializer(base, new JsonSerializer<>()
        {
            @Override
            public void serialize(T value, JsonGenerator json, SerializerProvider provider)
                    throws IOException
            {
                JsonSerializer<Object> bean = BeanSerializerFactory.instance.createSerializer(provider, provider.constructType(value.getClass()));
                if (bean instanceof ResolvableSerializer resolvable) {
                    resolvable.resolve(provider);
                }
                json.writeStartObject();
                json.writeStringField("@type", id);
                bean.unwrappingSerializer(null).serialize(value, json, provider);
                json.writeEndObject();
            }
        });
        module.addDeserializer(base, new JsonDeserializer<>()
        {
            @Override
            public T deserialize(JsonParser json, DeserializationContext context)
                    throws IOException
            {
                ObjectNode tree = json.readValueAsTree();
                if (!id.equals(tree.remove("@type").asText())) {
                    throw new IllegalArgumentException("unexpected handle type " + tree);
                }
                return ((ObjectMapper) json.getCodec()).treeToValue(tree, type);
            }
        });
    }

    /** airlift's RecordAutoDetectModule: records' public accessors are properties, however auto-detection is set. */
    private static final class RecordAutoDetect
            extends SimpleModule
    {
        @Override
        public void setupModule(SetupContext context)
        {
            context.insertAnnotationIntrospector(new AnnotationIntrospector()
            {
                @Override
                public VisibilityChecker<?> findAutoDetectVisibility(AnnotatedClass annotated, VisibilityChecker<?> checker)
                {
                    if (!annotated.getRawType().isRecord()) {
                        return checker;
                    }
                    return VisibilityChecker.Std.defaultInstance().withGetterVisibility(Visibility.PUBLIC_ONLY).withCreatorVisibility(Visibility.DEFAULT)
                            .withFieldVisibility(Visibility.DEFAULT).withIsGetterVisibility(Visibility.DEFAULT);
                }

                @Override
                public com.fasterxml.jackson.core.Version version()
                {
                    return com.fasterxml.jackson.core.Version.unknownVersion();
                }
            });
        }
    }

    /** The engine's BlockEncodingManager over the SPI's encodings: each block is its encoding's name, then its data. */
    private static final class Blocks
            implements BlockEncodingSerde
    {
        private final Map<String, BlockEncoding> byName = new HashMap<>();
        private final Map<Class<?>, BlockEncoding> byClass = new HashMap<>();
        private final Map<String, Type> types;

        Blocks(Map<String, Type> types)
        {
            this.types = types;
            for (BlockEncoding encoding : List.of(new VariableWidthBlockEncoding(), new ByteArrayBlockEncoding(), new IntArrayBlockEncoding(), new LongArrayBlockEncoding(),
                    new Fixed12BlockEncoding(), new ArrayBlockEncoding(), new DictionaryBlockEncoding(), new RunLengthBlockEncoding())) {
                byName.put(encoding.getName(), encoding);
                byClass.put(encoding.getBlockClass(), encoding);
            }
        }

        @Override
        public Block readBlock(SliceInput input)
        {
            byte[] name = new byte[input.readInt()];
            input.readBytes(name);
            return byName.get(new String(name, java.nio.charset.StandardCharsets.UTF_8)).readBlock(this, input);
        }

        @Override
        public void writeBlock(SliceOutput output, Block block)
        {
            while (true) {
                BlockEncoding encoding = byClass.get(block.getClass());
                if (encoding == null) {
                    throw new IllegalArgumentException("no encoding for " + block.getClass());
                }
                java.util.Optional<Block> replacement = encoding.replacementBlockForWrite(block);
                if (replacement.isPresent()) {
                    block = replacement.get();
                    continue;
                }
                byte[] name = encoding.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                output.writeInt(name.length);
                output.writeBytes(name);
                encoding.writeBlock(this, output, block);
                return;
            }
        }

        @Override
        public long estimatedWriteSize(Block block)
        {
            return 0;
        }

        @Override
        public Type readType(SliceInput input)
        {
            byte[] id = new byte[input.readInt()];
            input.readBytes(id);
            return types.get(new String(id, java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void writeType(SliceOutput output, Type type)
        {
            byte[] id = type.getTypeId().getId().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            output.writeInt(id.length);
            output.writeBytes(id);
        }
    }
}
