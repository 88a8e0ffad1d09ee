package io.parityd.nvram;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import net.openhft.chronicle.values.ValueModel;

/**
 * A build step, not part of the daemon: compiles Chronicle Map's own value classes into the
 * build's classes, so a start does not compile them.
 *
 * <p>Every Chronicle Map, when it opens, keeps its global state in a "value interface"
 * ({@code VanillaGlobalMutableState}) whose off-heap implementation Chronicle Values writes as
 * Java source and compiles with javac at run time, unless a class of that name is already on the
 * class path. That compile loads about a thousand javac classes and took 1.2 s of every start
 * of {@code parityd serve} or {@code controller} (measured on the 2-core build machine), and it
 * needs a JDK where a JRE would do. Here the same generator, of the same Chronicle Values the
 * daemon runs with, writes the same source at build time and javac compiles it once; Chronicle
 * then finds the class and skips the compile ({@code ValueModel.createClass} tries the class
 * loader first). {@code NativeValueClassesTest} checks the class is there and is the one
 * Chronicle itself would make.
 *
 * <p>Run by Maven in {@code process-classes}: {@code NativeValueClasses OUTPUT_DIRECTORY}.
 */
public final class NativeValueClasses {

    /** The value interfaces Chronicle Map compiles at run time, found by loading the class log of a start. */
    static final List<String> INTERFACES = List.of("net.openhft.chronicle.hash.VanillaGlobalMutableState");

    private NativeValueClasses() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: NativeValueClasses OUTPUT_DIRECTORY");
        }
        Path out = Path.of(args[0]);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("no Java compiler in this runtime: build with a JDK");
        }
        for (String name : INTERFACES) {
            Class<?> type = Class.forName(name);
            String simple = nativeSimpleName(type);
            String source = source(type, simple);
            String qualified = type.getPackageName() + "." + simple;
            var file = new SimpleJavaFileObject(URI.create("string:///" + qualified.replace('.', '/') + ".java"),
                    javax.tools.JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return source;
                }
            };
            Files.createDirectories(out);
            var task = javac.getTask(null, null, null, List.of("-d", out.toString(), "-classpath",
                    System.getProperty("java.class.path"), "-nowarn", "-proc:none"), null, List.of(file));
            if (!task.call()) {
                throw new IOException("javac failed on Chronicle Values' source for " + qualified);
            }
        }
    }

    /** Chronicle Values' name for the native class: the interface's name after its package, plus {@code $$Native}. */
    static String nativeSimpleName(Class<?> type) {
        String name = type.getName();
        return name.substring(name.lastIndexOf('.') + 1) + ValueModel.$$NATIVE;
    }

    /** The source Chronicle Values generates for {@code type}'s native implementation. */
    static String source(Class<?> type, String simpleName) throws ReflectiveOperationException {
        // Generators is package-private: the one call that yields the very source ValueModel compiles.
        Method generate = Class.forName("net.openhft.chronicle.values.Generators")
                .getDeclaredMethod("generateNativeClass", ValueModel.class, String.class);
        generate.setAccessible(true);
        return (String) generate.invoke(null, ValueModel.acquire(type), simpleName);
    }
}
