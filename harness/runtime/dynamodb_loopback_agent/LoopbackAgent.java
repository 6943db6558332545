import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Set;

/**
 * Java agent for DynamoDB Local in host mode: its Jetty server binds 127.0.0.1, not every
 * interface (DynamoDB Local has no bind-address option).
 *
 * <p>It takes the place of LocalStack's ddb-local-loader agent (LocalStack passes
 * {@code -javaagent:<lib>/ddb-local-loader-0.1.jar}), whose only patch lifts a GSI limit
 * this project does not reach. If the patch cannot be applied (a JDK without its internal
 * ASM), DynamoDB Local still starts, on every interface, and says so on stderr.
 */
public final class LoopbackAgent {
    static final String ASM_PACKAGE = "jdk.internal.org.objectweb.asm";

    private LoopbackAgent() {}

    public static void premain(String args, Instrumentation instrumentation) {
        try {
            Module self = LoopbackAgent.class.getModule();
            instrumentation.redefineModule(
                    Object.class.getModule(),
                    Set.of(),
                    Map.of(ASM_PACKAGE, Set.of(self)),
                    Map.of(),
                    Set.of(),
                    Map.of());
            instrumentation.addTransformer(new LoopbackTransformer());
        } catch (Throwable error) {
            System.err.println(
                    "loopback agent: not applied, DynamoDB Local binds every interface: " + error);
        }
    }

    public static void agentmain(String args, Instrumentation instrumentation) {
        premain(args, instrumentation);
    }
}
