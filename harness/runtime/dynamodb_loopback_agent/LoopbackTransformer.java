import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassVisitor;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.Label;
import jdk.internal.org.objectweb.asm.MethodVisitor;
import jdk.internal.org.objectweb.asm.Opcodes;

/**
 * Rewrites Jetty's {@code AbstractNetworkConnector.getHost()} from {@code return _host;} to
 * {@code return _host != null ? _host : "127.0.0.1";}: a connector with no host configured
 * (DynamoDB Local's) binds loopback, since ServerConnector binds {@code getHost()}.
 */
final class LoopbackTransformer implements ClassFileTransformer {
    static final String CONNECTOR = "org/eclipse/jetty/server/AbstractNetworkConnector";
    static final String LOOPBACK = "127.0.0.1";

    @Override
    public byte[] transform(
            ClassLoader loader,
            String className,
            Class<?> redefined,
            ProtectionDomain domain,
            byte[] bytes) {
        if (!CONNECTOR.equals(className)) {
            return null;
        }
        try {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            reader.accept(new ConnectorVisitor(writer), 0);
            return writer.toByteArray();
        } catch (Throwable error) {
            System.err.println("loopback agent: " + className + " left unchanged: " + error);
            return null;
        }
    }

    private static final class ConnectorVisitor extends ClassVisitor {
        ConnectorVisitor(ClassVisitor next) {
            super(Opcodes.ASM8, next);
        }

        @Override
        public MethodVisitor visitMethod(
                int access, String name, String descriptor, String signature, String[] exceptions) {
            MethodVisitor method = super.visitMethod(access, name, descriptor, signature, exceptions);
            if ("getHost".equals(name) && "()Ljava/lang/String;".equals(descriptor)) {
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
