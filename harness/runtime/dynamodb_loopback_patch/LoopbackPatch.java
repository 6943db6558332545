import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassVisitor;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.Label;
import jdk.internal.org.objectweb.asm.MethodVisitor;
import jdk.internal.org.objectweb.asm.Opcodes;

/**
 * Patches Jetty in DynamoDB Local's install, once, so that its server binds 127.0.0.1, not
 * every interface (DynamoDB Local has no bind-address option): rewrites
 * {@code AbstractNetworkConnector.getHost()} in the given jar from {@code return _host;} to
 * {@code return _host != null ? _host : "127.0.0.1";}, since ServerConnector binds
 * {@code getHost()} and DynamoDB Local's connector has no host configured.
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED
 * LoopbackPatch <jar holding the connector>}. Done at install rather than by a Java agent at
 * each start: a JVM with an agent loads no class from a class-data-sharing archive
 * (harness/runtime/dynamodb_local_build.py). Exit status 1, saying so, if there is no getHost().
 */
public final class LoopbackPatch {
    static final String CONNECTOR = "org/eclipse/jetty/server/AbstractNetworkConnector.class";
    static final String LOOPBACK = "127.0.0.1";

    private LoopbackPatch() {}

    public static void main(String[] args) throws Exception {
        URI jar = URI.create("jar:" + Path.of(args[0]).toAbsolutePath().toUri());
        try (FileSystem zip = FileSystems.newFileSystem(jar, Map.of())) {
            Path entry = zip.getPath(CONNECTOR);
            ClassReader reader = new ClassReader(Files.readAllBytes(entry));
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            ConnectorVisitor visitor = new ConnectorVisitor(writer);
            reader.accept(visitor, 0);
            if (!visitor.patched) {
                System.err.println("loopback patch: no getHost() in " + CONNECTOR);
                System.exit(1);
            }
            Files.write(entry, writer.toByteArray());
        }
    }

    private static final class ConnectorVisitor extends ClassVisitor {
        boolean patched;

        ConnectorVisitor(ClassVisitor next) {
            super(Opcodes.ASM8, next);
        }

        @Override
        public MethodVisitor visitMethod(
                int access, String name, String descriptor, String signature, String[] exceptions) {
            MethodVisitor method = super.visitMethod(access, name, descriptor, signature, exceptions);
            if ("getHost".equals(name) && "()Ljava/lang/String;".equals(descriptor)) {
                patched = true;
                return new DefaultToLoopback(method);
            }
            return method;
        }
    }

    private static final class DefaultToLoopback extends MethodVisitor {
        DefaultToLoopback(MethodVisitor next) {
            super(Opcodes.ASM8, next);
        }

        @Override
        public void visitInsn(int opcode) {
            if (opcode == Opcodes.ARETURN) {
                Label returnHost = new Label();
                super.visitInsn(Opcodes.DUP);
                super.visitJumpInsn(Opcodes.IFNONNULL, returnHost);
                super.visitInsn(Opcodes.POP);
                super.visitLdcInsn(LOOPBACK);
                super.visitLabel(returnHost);
                super.visitFrame(Opcodes.F_SAME1, 0, null, 1, new Object[] {"java/lang/String"});
            }
            super.visitInsn(opcode);
        }
    }
}
